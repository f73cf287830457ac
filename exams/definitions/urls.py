from django.urls import path

from exams.definitions import views

P = "operator/tests/"

urlpatterns: list = [
    path(P, views.test_list, name="exams-operator-tests"),
    path(f"{P}import-qti/", views.qti_upload, name="exams-operator-qti"),
    path(f"{P}upload/", views.definition_upload, name="exams-operator-upload"),
    path(f"{P}<uuid:test>/", views.test_detail, name="exams-operator-test"),
    path(f"{P}<uuid:test>/definition.yaml", views.test_export, name="exams-operator-export"),
    path(f"{P}<uuid:test>/publish/", views.test_publish, name="exams-operator-publish"),
    path(f"{P}<uuid:test>/retire/", views.test_retire, name="exams-operator-retire"),
    path(f"{P}<uuid:test>/new-version/", views.test_new_version, name="exams-operator-new-version"),
    path("assets/<uuid:asset>/", views.asset, name="exams-asset"),
    path(
        "operator/items/<uuid:item>/correct-key/",
        views.item_key_correction,
        name="exams-operator-item-key",
    ),
]

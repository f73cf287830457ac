from django.urls import path

from schools import api, transfer_api

urlpatterns: list = [
    path("transfer/", transfer_api.TransferSubmitView.as_view(), name="api-transfer-submit"),
    path("transfer/runs/", transfer_api.TransferRunListView.as_view(), name="api-transfer-runs"),
    path(
        "transfer/runs/<uuid:public_id>/",
        transfer_api.TransferRunDetailView.as_view(),
        name="api-transfer-run",
    ),
    path("units/", api.SchoolUnitList.as_view(), name="api-school-units"),
    path("units/<uuid:unit>/", api.SchoolUnitDetail.as_view(), name="api-school-unit"),
    path("units/<uuid:unit>/students/", api.StudentList.as_view(), name="api-unit-students"),
    path("units/<uuid:unit>/staff/", api.StaffList.as_view(), name="api-unit-staff"),
    path(
        "units/<uuid:unit>/teaching-groups/",
        api.TeachingGroupList.as_view(),
        name="api-unit-groups",
    ),
    path(
        "units/<uuid:unit>/role-assignments/",
        api.RoleAssignmentList.as_view(),
        name="api-unit-role-assignments",
    ),
    path(
        "units/<uuid:unit>/role-assignments/<uuid:assignment>/",
        api.RoleAssignmentDetail.as_view(),
        name="api-unit-role-assignment",
    ),
]

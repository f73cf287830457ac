from django.urls import path

from schools import transfer_views

urlpatterns = [
    path("transfer/", transfer_views.transfer_runs, name="transfer-runs"),
    path("transfer/upload/", transfer_views.transfer_upload, name="transfer-upload"),
    path("transfer/template.xlsx", transfer_views.transfer_template, name="transfer-template"),
    path(
        "transfer/runs/<uuid:public_id>/",
        transfer_views.transfer_run_detail,
        name="transfer-run",
    ),
    path("transfer/tokens/", transfer_views.api_tokens, name="transfer-tokens"),
    path(
        "transfer/tokens/<uuid:public_id>/revoke/",
        transfer_views.api_token_revoke_view,
        name="transfer-token-revoke",
    ),
]

"""Settings for the baseline server: the product's settings with the baseline's two URLs.

Only CommonMiddleware (it sets Content-Length, which the raw-socket client reads): the baseline
is plain Django at its fastest (no sessions, CSRF, locale or the login lock), so the comparison
does not flatter the product's save path.
"""

from provplattform.settings import *  # noqa: F403

ROOT_URLCONF = "bench.baseline_urls"
MIDDLEWARE = ["django.middleware.common.CommonMiddleware"]

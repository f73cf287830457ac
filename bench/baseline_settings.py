"""Settings for the baseline server: the product's settings with the baseline's two URLs."""

from provplattform.settings import *  # noqa: F403

ROOT_URLCONF = "bench.baseline_urls"

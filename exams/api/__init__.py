"""REST API of the preparation before the day (thin: scope, validate, call a service).

One module per aggregate; `base` holds what they share. Every path starts with the school unit; a
unit where the caller lacks the capability answers 404, as does any object of another unit. A
refused change answers 400 with the reason in `detail`.
"""

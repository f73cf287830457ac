"""Pages of the preparation before the day, one module per aggregate. Thin: scope, call a
service, render."""

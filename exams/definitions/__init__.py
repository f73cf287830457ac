"""Test definitions: the format and its validator, the QTI import, the operator's writes, pages
and API, and machine scoring. The modules are listed in docs/test-definitions.md."""

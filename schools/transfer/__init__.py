"""The organiser user transfer: SS 12000 JSON or a spreadsheet, checked and applied in full."""

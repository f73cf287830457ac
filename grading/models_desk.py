"""Models of the assessor's desk (second marking and the like); imported by grading.models."""

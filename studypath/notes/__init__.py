"""Notes: the guide's week-5 feature — personal notes, shared read-only or editable."""

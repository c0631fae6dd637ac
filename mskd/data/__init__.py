"""Datasets: the SEE loader, the event-camera model and the synthetic single-eye dataset."""

"""Layer 0, core: the configuration, the paper's facts, the vocabulary (variant and dataset
names and labels), formatting, atomic file I/O and provenance. Imports nothing else of helpers."""

"""Layer 3, stages: what the command line runs (train and compress one seed, predict and evaluate
it, aggregate the seeds, sweep them, re-open a seed from its packs). Imports the layers below."""

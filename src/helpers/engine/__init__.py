"""Layer 2, engine: the member model, training, pruning, quantization and conversion, encodings,
prediction and the weights pack. The only layer that runs TensorFlow. Imports core and store."""

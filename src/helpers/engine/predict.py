"""Member probabilities (M, N, 10) for any variant, through Keras or the LiteRT interpreter.

TFLite models run in the LiteRT interpreter (ai-edge-litert), batched: the input tensor is
resized once to the batch size and the last batch is zero-padded. Full-integer models
take int8 inputs and give int8 outputs: inputs are quantized and outputs dequantized with
each tensor's (scale, zero_point); dequantized probabilities are renormalized because
int8 rounding leaves their sum slightly off 1.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from ai_edge_litert.interpreter import Interpreter, OpResolverType

TFLITE_BATCH = 500


class TFLiteMember:
    """One .tflite member, callable on float32 images (n, 28, 28, 1) -> probs (n, K)
    (or (n, M, K) for a one-graph ensemble from compression.ensemble_to_tflite)."""

    def __init__(self, model: bytes | Path, num_threads: int = 2, batch_size: int = TFLITE_BATCH, xnnpack: bool = True):
        kwargs = {"model_content": model} if isinstance(model, bytes) else {"model_path": str(model)}
        if not xnnpack:  # LiteRT's own optimized kernels only (no default XNNPACK delegate)
            kwargs["experimental_op_resolver_type"] = OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES
        self.interpreter = Interpreter(num_threads=num_threads, **kwargs)
        self.input = self.interpreter.get_input_details()[0]
        self.batch_size = batch_size
        self.interpreter.resize_tensor_input(self.input["index"], [batch_size, *self.input["shape"][1:]])
        self.interpreter.allocate_tensors()
        self.input = self.interpreter.get_input_details()[0]
        self.output = self.interpreter.get_output_details()[0]

    def _quantize(self, x: np.ndarray) -> np.ndarray:
        if self.input["dtype"] == np.float32:
            return x.astype(np.float32)
        scale, zero = self.input["quantization"]
        info = np.iinfo(self.input["dtype"])
        return np.clip(np.round(x / scale + zero), info.min, info.max).astype(self.input["dtype"])

    def _dequantize(self, y: np.ndarray) -> np.ndarray:
        if self.output["dtype"] == np.float32:
            return y
        scale, zero = self.output["quantization"]
        p = (y.astype(np.float32) - zero) * scale
        return p / np.maximum(p.sum(axis=-1, keepdims=True), 1e-12)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        out = []
        for start in range(0, len(x), self.batch_size):
            batch = x[start : start + self.batch_size]
            n = len(batch)
            if n < self.batch_size:
                batch = np.concatenate([batch, np.zeros((self.batch_size - n, *batch.shape[1:]), batch.dtype)])
            self.interpreter.set_tensor(self.input["index"], self._quantize(batch))
            self.interpreter.invoke()
            out.append(self._dequantize(self.interpreter.get_tensor(self.output["index"]))[:n])
        return np.concatenate(out).astype(np.float32)


def keras_probabilities(models: list, x: np.ndarray, batch_size: int = 1000) -> np.ndarray:
    """(M, N, K) float32 from a list of Keras members."""
    return np.stack([m.predict(x, batch_size=batch_size, verbose=0) for m in models]).astype(np.float32)


def tflite_probabilities(paths: list, x: np.ndarray) -> np.ndarray:
    """(M, N, K) float32 from a list of .tflite files (or their bytes)."""
    return np.stack([TFLiteMember(p)(x) for p in paths])

"""The softmax audit's reader: a TFLite model's own logits, read from the very same file.

A full-integer model (helpers.engine.compression, mode 'int8full') ends in an int8 SOFTMAX whose
output scale TFLite fixes at 1/256 (zero point −128), so a probability below 1/512 becomes
exactly 0; PQAT models quantize their softmax output the same way. `tflite_logits` runs the
interpreter with every intermediate tensor kept (LiteRT's experimental_preserve_all_tensors)
and returns the dequantized INPUT of the last SOFTMAX operator: the logits the int8 softmax saw.
Inputs are quantized exactly as helpers.engine.predict.TFLiteMember does.

The operator list comes from the interpreter's `_get_ops_details()`, a private but stable
LiteRT method (the public API lists tensors, not which operator reads them).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from helpers.engine.predict import TFLITE_BATCH, TFLiteMember


class LogitsError(ValueError):
    """A model whose logits cannot be read as the audit needs them."""


class _LogitsMember(TFLiteMember):
    def __init__(self, model: bytes | Path, batch_size: int = TFLITE_BATCH):
        from ai_edge_litert.interpreter import Interpreter

        kwargs = {"model_content": model} if isinstance(model, bytes) else {"model_path": str(model)}
        with warnings.catch_warnings():  # LiteRT warns that keeping every tensor is for debugging: it is, here
            warnings.simplefilter("ignore", UserWarning)
            self.interpreter = Interpreter(num_threads=2, experimental_preserve_all_tensors=True, **kwargs)
        self.batch_size = batch_size
        details = self.interpreter.get_input_details()[0]
        self.interpreter.resize_tensor_input(details["index"], [batch_size, *details["shape"][1:]])
        self.interpreter.allocate_tensors()
        self.input = self.interpreter.get_input_details()[0]
        softmax = [op for op in self.interpreter._get_ops_details() if op["op_name"] == "SOFTMAX"]
        if not softmax:
            where = model if isinstance(model, (str, Path)) else "the model"
            raise LogitsError(f"{where} has no SOFTMAX operator; the softmax audit reads the input of one.")
        index = int(softmax[-1]["inputs"][0])
        self.logits = next(t for t in self.interpreter.get_tensor_details() if t["index"] == index)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        out = []
        for start in range(0, len(x), self.batch_size):
            batch = x[start : start + self.batch_size]
            n = len(batch)
            if n < self.batch_size:
                batch = np.concatenate([batch, np.zeros((self.batch_size - n, *batch.shape[1:]), batch.dtype)])
            self.interpreter.set_tensor(self.input["index"], self._quantize(batch))
            self.interpreter.invoke()
            raw = self.interpreter.get_tensor(self.logits["index"])
            if raw.dtype == np.float32:
                out.append(raw[:n])
                continue
            scale, zero = self.logits["quantization"]
            out.append(((raw.astype(np.float32) - zero) * scale)[:n])
        return np.concatenate(out).astype(np.float32)


def tflite_logits(model: bytes | Path, x: np.ndarray, batch_size: int = TFLITE_BATCH) -> np.ndarray:
    """(N, K) float32: the dequantized input of the model's last SOFTMAX, on images x (N, 28, 28, 1)."""
    return _LogitsMember(model, batch_size)(x)


def output_zero_fraction(probs: np.ndarray) -> float:
    """The fraction of probabilities that are exactly 0."""
    return float(np.mean(np.asarray(probs) == 0))

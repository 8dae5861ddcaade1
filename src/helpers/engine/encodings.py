"""Size encodings of a .tflite member beside the paper's "zipped size" (deflate, default
level): deflate at level 9, TFLite's own sparse tensor encoding, and a sparse container
of ours that round-trips the .tflite file byte for byte.

Why our own container: TFLite's `Optimize.EXPERIMENTAL_SPARSITY` stores pruned kernels
in a block-sparse format with index arrays (and a DENSIFY op), which zips *larger* than
the dense int8 file at every sparsity we measured (see `sparse_tflite`). No library we
know of stores a pruned int8 file closer to its entropy, so `pack_sparse` does the
simplest thing that does: every large int8 weight buffer is cut out of the file and
stored as its zero/non-zero mask plus its non-zero values; the rest of the file is kept
as is; the three streams are deflated together. A mask is stored as a bitmap or as
gap lengths, whichever deflates smaller (a bitmap wins near 50 % density, gaps at high
sparsity, where they approach the mask's entropy). `unpack_sparse` puts the
buffers back, so the container decodes to the identical .tflite bytes (tested), and
LiteRT runs what it decodes.
"""

from __future__ import annotations

import io
import json
import struct
import zipfile
import zlib

import numpy as np

ENCODINGS_VERSION = 2  # bump when an encoding changes: encodings.json is recomputed
MAGIC = b"CDESPRS1"
# Optimize.DEFAULT quantizes a weight tensor only from this many elements on (the MLIR
# quantizer's kMinNumElementsForWeights); tests/test_encodings.py pins it at 1023/1024.
CONVERTER_MIN_WEIGHTS = 1024
MIN_PACKED_WEIGHTS = 256  # smaller buffers (biases, scales) stay in the remainder
# This project's goals for the best encoding (ensemble ratio per sparsity, and size over
# the lower bound from 50 % sparsity on); the book reports each as met or not.
RATIO_GOALS = {0.25: 4.5, 0.5: 7.0, 0.75: 12.0}
BOUND_GOAL = 1.3


class EncodingError(ValueError):
    pass


def deflate_size(data: bytes, level: int | None = None, name: str = "member.tflite") -> int:
    """Bytes of a ZIP_DEFLATED archive holding `data` (level None: zlib's default, 6)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=level) as z:
        z.writestr(name, data)
    return buf.getbuffer().nbytes


def _interpreter(tflite: bytes):
    # Without the default XNNPACK delegate: it takes over constant tensors (and rejects
    # TFLite's sparse tensors), while the reference kernels let every constant be read.
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    it = Interpreter(model_content=tflite, experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
    it.allocate_tensors()
    return it


def constant_tensors(tflite: bytes) -> list[dict]:
    """Every constant (weight) tensor of a .tflite model: name, dtype, shape, values.

    A constant is an operator input that no operator writes and that is not a model
    input: its values are stored in the file (kernel scratch tensors are not inputs)."""
    it = _interpreter(tflite)
    ops = it._get_ops_details()
    read = {int(t) for op in ops for t in op["inputs"]}
    written = {int(t) for op in ops for t in op["outputs"]}
    inputs = {d["index"] for d in it.get_input_details()}
    out = []
    for d in it.get_tensor_details():
        if d["index"] not in read or d["index"] in written | inputs or not len(d["shape"]):
            continue
        try:
            values = it.get_tensor(d["index"])
        except ValueError:  # a tensor without data (e.g. an intermediate of a DENSIFY op)
            continue
        out.append(
            {
                "name": d["name"],
                "dtype": np.dtype(values.dtype).name,
                "shape": tuple(int(s) for s in values.shape),
                "values": values,
            }
        )
    return out


def float_weight_tensors(tflite: bytes) -> list[dict]:
    """The multi-dimensional float32 constants of a .tflite file (kernels the converter
    left unquantized), with their stored bytes."""
    return [
        {"name": t["name"], "shape": t["shape"], "bytes": t["values"].nbytes}
        for t in constant_tensors(tflite)
        if t["dtype"] == "float32" and len(t["shape"]) > 1
    ]


def _gaps(mask: np.ndarray) -> bytes:
    """Run lengths of zeros before each non-zero, and after the last; runs >= 255 are
    written as 255s followed by the rest (one byte per symbol, so deflate models them)."""
    positions = np.flatnonzero(mask)
    runs = np.diff(np.concatenate([[-1], positions, [mask.size]])) - 1
    out = bytearray()
    for r in runs.tolist():
        out += b"\xff" * (r // 255) + bytes([r % 255])
    return bytes(out)


def _ungaps(data: bytes, size: int) -> np.ndarray:
    mask = np.zeros(size, dtype=bool)
    pos, run = 0, 0
    for b in data:
        run += b
        if b == 255:
            continue
        pos += run
        if pos < size:
            mask[pos] = True
        pos += 1
        run = 0
    return mask


def _segments(tflite: bytes) -> list[tuple[int, int]]:
    """(offset, length) of every int8 weight buffer with at least MIN_PACKED_WEIGHTS values
    whose bytes occur exactly once in the file (so the cut is unambiguous)."""
    found = []
    for t in constant_tensors(tflite):
        raw = np.ascontiguousarray(t["values"]).tobytes()
        if t["dtype"] != "int8" or len(raw) < MIN_PACKED_WEIGHTS:
            continue
        first = tflite.find(raw)
        if first >= 0 and tflite.find(raw, first + 1) < 0:
            found.append((first, len(raw)))
    found.sort()
    for (a, n), (b, _) in zip(found, found[1:]):
        if a + n > b:
            raise EncodingError(
                "Two weight buffers of the .tflite file overlap; it cannot be packed. Report the model that produced it."
            )
    return found


def _mask_code(mask: np.ndarray) -> tuple[str, bytes]:
    """("bits", packed bitmap) or ("gaps", run lengths), whichever deflates smaller."""
    codes = {"bits": np.packbits(mask).tobytes(), "gaps": _gaps(mask)}
    return min(codes.items(), key=lambda kv: (len(zlib.compress(kv[1], 9)), kv[0]))


def _mask_decode(kind: str, data: bytes, size: int) -> np.ndarray:
    if kind == "bits":
        return np.unpackbits(np.frombuffer(data, dtype=np.uint8), count=size).astype(bool)
    return _ungaps(data, size)


def pack_sparse(tflite: bytes) -> bytes:
    """The container of one .tflite file: header, masks, non-zero values, the rest."""
    header, masks, values, rest = _split(tflite)
    head = json.dumps({"segments": header, "size": len(tflite)}).encode()
    return MAGIC + struct.pack("<I", len(head)) + head + masks + values + rest


def non_weight_bytes(tflite: bytes) -> bytes:
    """What the container keeps of the file as is: everything but the large int8 kernels
    (the graph, tensor names, biases, scales and any float32 kernel)."""
    return _split(tflite)[3]


def _split(tflite: bytes) -> tuple[list, bytes, bytes, bytes]:
    """(segment header, mask codes, non-zero values, rest of the file) of a .tflite file."""
    segments = _segments(tflite)
    masks, values, rest, cursor = bytearray(), bytearray(), bytearray(), 0
    header = []
    for offset, length in segments:
        weights = np.frombuffer(tflite, dtype=np.int8, count=length, offset=offset)
        mask = weights != 0
        kind, code = _mask_code(mask)
        header.append([offset, length, kind, len(code), int(mask.sum())])
        masks += code
        values += weights[mask].tobytes()
        rest += tflite[cursor:offset]
        cursor = offset + length
    rest += tflite[cursor:]
    return header, bytes(masks), bytes(values), bytes(rest)


def unpack_sparse(blob: bytes) -> bytes:
    """The .tflite bytes a `pack_sparse` container holds (identical to the packed file)."""
    if not blob.startswith(MAGIC):
        raise EncodingError(
            f"The data is not a sparse container (its first bytes are not {MAGIC!r}); pass what pack_sparse returned."
        )
    (n_head,) = struct.unpack_from("<I", blob, len(MAGIC))
    start = len(MAGIC) + 4
    head = json.loads(blob[start : start + n_head])
    pos = start + n_head
    mask_start = pos
    value_start = mask_start + sum(s[3] for s in head["segments"])
    rest_start = value_start + sum(s[4] for s in head["segments"])
    out, rest_pos = bytearray(), rest_start
    previous_end = 0
    for offset, length, kind, n_mask, n_values in head["segments"]:
        keep = offset - previous_end
        out += blob[rest_pos : rest_pos + keep]
        rest_pos += keep
        mask = _mask_decode(kind, blob[mask_start : mask_start + n_mask], length)
        weights = np.zeros(length, dtype=np.int8)
        weights[mask] = np.frombuffer(blob, dtype=np.int8, count=n_values, offset=value_start)
        out += weights.tobytes()
        mask_start += n_mask
        value_start += n_values
        previous_end = offset + length
    out += blob[rest_pos:]
    if len(out) != head["size"]:
        raise EncodingError(
            f"The sparse container decodes to {len(out)} bytes but says {head['size']}; the container is corrupt."
        )
    return bytes(out)


def sparse_tflite(model) -> bytes:
    """The member converted with `Optimize.DEFAULT` plus `EXPERIMENTAL_SPARSITY`: TFLite's
    own sparse tensor encoding of the pruned kernels (runs in LiteRT's built-in kernels;
    XNNPACK refuses these files)."""
    from helpers.engine.compression import to_tflite

    return to_tflite(model, "int8sparse")


def member_encodings(q8_tflite: bytes, sparse_tflite_bytes: bytes | None = None, name: str = "member.tflite") -> dict:
    """Bytes of one int8-weights member in every encoding: the paper's zip (deflate 6;
    with the file's own `name` inside the archive it equals Table 2's measure), deflate 9,
    our sparse container (deflate 9), the part of it that is not kernel weights (deflate 9)
    and, when given, TFLite's sparse file."""
    out = {
        "zip": deflate_size(q8_tflite, None, name),
        "zip9": deflate_size(q8_tflite, 9, name),
        "container9": deflate_size(pack_sparse(q8_tflite), 9, name + ".cdesparse"),
        "non_weight9": deflate_size(non_weight_bytes(q8_tflite), 9, name + ".rest"),
    }
    if sparse_tflite_bytes is not None:
        out["tflite_sparse_zip"] = deflate_size(sparse_tflite_bytes, None, name)
        out["tflite_sparse_zip9"] = deflate_size(sparse_tflite_bytes, 9, name)
    return out


def float_kernel_cost(tflites: list[bytes]) -> dict:
    """The float32 kernels the converter left unquantized in a list of members
    (Optimize.DEFAULT skips weight tensors under 1,024 elements; here conv1's 252):
    their names and weights per member, and summed over the members their stored bytes
    and deflated bytes, beside the same kernels as per-output-channel int8 values."""
    from helpers.engine.compression import quantize_symmetric_int8

    out = {"names": [], "weights_per_member": 0, "float32_bytes": 0, "float32_deflated": 0, "int8_bytes": 0, "int8_deflated": 0}
    for i, tflite in enumerate(tflites):
        for t in constant_tensors(tflite):
            if t["dtype"] != "float32" or len(t["shape"]) < 2:
                continue
            # TFLite stores output channels first; int8 kernels are quantized per output channel.
            q, _ = quantize_symmetric_int8(np.moveaxis(t["values"], 0, -1))
            if i == 0:
                out["names"].append(t["name"])
                out["weights_per_member"] += int(t["values"].size)
            out["float32_bytes"] += int(t["values"].nbytes)
            out["float32_deflated"] += len(zlib.compress(t["values"].tobytes()))
            out["int8_bytes"] += int(q.nbytes)
            out["int8_deflated"] += len(zlib.compress(q.tobytes()))
    return out


def reference_probabilities(tflite: bytes, x: np.ndarray) -> np.ndarray:
    """(n, K) outputs of a float-input .tflite file in LiteRT's reference kernels, one
    image at a time (the sparse files' DENSIFY op needs no batch resize this way)."""
    it = _interpreter(tflite)
    inp, outp = it.get_input_details()[0], it.get_output_details()[0]
    rows = []
    for image in x.astype(np.float32):
        it.set_tensor(inp["index"], image[None])
        it.invoke()
        rows.append(it.get_tensor(outp["index"])[0].copy())
    return np.stack(rows)

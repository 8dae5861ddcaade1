"""Tests for helpers.data.loaders: the real files, subsets, downloads from a local server,
corrupt and unsafe inputs. No network beyond HTTP servers on 127.0.0.1."""

from __future__ import annotations

import gzip
import hashlib
import http.server
import io
import os
import socket
import tarfile
import threading
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from PIL import Image

from helpers.data import files
from helpers.data import loaders as data
from helpers.data import notmnist as nm
from helpers.data.files import DataError

REPO_ROOT = Path(__file__).resolve().parents[1]
LABELS = "t10k-labels-idx1-ubyte.gz"  # 4,542 bytes: the smallest real file
TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
NOTMNIST_COUNTS = [1872] + [1873] * 4 + [1872] * 5
FASHION_IMAGES, FASHION_LABELS = data.FASHION_FILES["images"], data.FASHION_FILES["labels"]
# The module's own values, before the autouse fixture swaps them out.
PACKAGE_PATHS, MIRRORS = dict(files.PACKAGE_PATHS), dict(files.MIRRORS)
# Published in shared/data/README.md, typed here independently of helpers.data.loaders.
FASHION_CONTENT_SHA256 = "9f1ec356a747bfe4ebab3cfb722d3694c9ca737e2570f6f90cf31d7b6fd689d4"
FASHION_IDX_SHA256 = {
    FASHION_IMAGES: "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
    FASHION_LABELS: "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
}


def _shared_data_dir() -> Path | None:
    """$CDE_DATA_DIR (relative: from the repo root, as CI sets it), or None if unset.

    A value that points at the wrong folder is kept: those tests then fail with the
    loader's own message rather than being skipped unnoticed.
    """
    env = os.environ.get("CDE_DATA_DIR")
    if not env:
        return None
    path = Path(env).expanduser()
    return (path if path.is_absolute() else REPO_ROOT / path).resolve()


SHARED = _shared_data_dir()
needs_real_data = pytest.mark.skipif(
    SHARED is None,
    reason="real data not available: CDE_DATA_DIR is not set "
    "(set it to the folder with the MNIST and notMNIST files, e.g. CDE_DATA_DIR=../shared/data)",
)


def _closed_port_url(path: str) -> str:
    """A URL on 127.0.0.1 where nothing listens: a download that cannot connect."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/{path}"


def _offline_mirrors() -> dict[str, list[str]]:
    """Every mirror replaced by a dead local URL: no test can reach the internet."""
    return {name: [_closed_port_url(name)] for name in files.MIRRORS}


def _absent_package_paths(folder: Path) -> dict[str, Path]:
    """System-package locations where nothing is installed, so a real Debian copy is never used."""
    return {name: folder / "no-package" / path.name for name, path in files.PACKAGE_PATHS.items()}


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    """Each test gets an empty cache, no CDE_DATA_DIR, no system-package copies, offline
    mirrors, direct 127.0.0.1."""
    cache = tmp_path / "cache"
    monkeypatch.setattr(files, "MIRRORS", _offline_mirrors())
    monkeypatch.setattr(files, "PACKAGE_PATHS", _absent_package_paths(tmp_path))
    monkeypatch.setenv("CDE_CACHE_DIR", str(cache))
    monkeypatch.delenv("CDE_DATA_DIR", raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    return cache


def _files_under(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


# ------------------------------------------------------------------ real-file fixtures


@pytest.fixture(scope="module")
def mnist(tmp_path_factory):
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(files, "MIRRORS", _offline_mirrors())
        mp.setenv("CDE_CACHE_DIR", str(tmp_path_factory.mktemp("mnist_cache")))
        return data.load_mnist(data_dir=SHARED)


@pytest.fixture(scope="module")
def notmnist(tmp_path_factory):
    """One real decode for the module; its cache folder is kept so tests can reuse it."""
    cache = tmp_path_factory.mktemp("notmnist_cache")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(files, "MIRRORS", _offline_mirrors())
        mp.setenv("CDE_CACHE_DIR", str(cache))
        x, y = nm.load_notmnist(data_dir=SHARED)
    return SimpleNamespace(x=x, y=y, cache=cache)


# ------------------------------------------------------------------------ real MNIST


@needs_real_data
def test_mnist_shapes_dtypes_and_range(mnist):
    (x_train, y_train), (x_test, y_test) = mnist
    assert x_train.shape == (60000, 28, 28, 1) and y_train.shape == (60000,)
    assert x_test.shape == (10000, 28, 28, 1) and y_test.shape == (10000,)
    assert x_train.dtype == x_test.dtype == np.float32
    assert y_train.dtype == y_test.dtype == np.int64
    for x in (x_train, x_test):
        assert x.min() == 0.0 and x.max() == 1.0


@needs_real_data
def test_mnist_class_counts(mnist):
    (_, y_train), (_, y_test) = mnist
    assert np.bincount(y_train, minlength=10).tolist() == TRAIN_COUNTS
    assert np.bincount(y_test, minlength=10).tolist() == TEST_COUNTS


@needs_real_data
def test_mnist_float_images_map_back_to_the_published_content_digest(mnist):
    # Independent route: undo the [0, 1] scaling and hash as the README does.
    (x_train, y_train), (x_test, y_test) = mnist
    to_uint8 = lambda x: np.rint(x[..., 0] * 255).astype(np.uint8)  # noqa: E731
    digest = hashlib.sha256()
    for array in (to_uint8(x_train), y_train.astype(np.uint8), to_uint8(x_test), y_test.astype(np.uint8)):
        digest.update(array.tobytes())
    assert digest.hexdigest() == "06b0d1f124c4e5fa796686ade41a9b778edacc8622f2195a352ef479ad44fc16"


@needs_real_data
def test_relative_cde_data_dir_is_found_from_another_folder(tmp_path, monkeypatch, isolated):
    # CI sets CDE_DATA_DIR relative to the repo root; notebooks run from elsewhere.
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CDE_DATA_DIR", os.path.relpath(SHARED, REPO_ROOT))
    assert files.find_data_file(LABELS) == SHARED / LABELS
    assert _files_under(isolated) == []  # read in place, nothing copied


@needs_real_data
def test_data_digests_are_the_sha256_of_the_files_used():
    digests = data.data_digests(data_dir=SHARED)
    for name in [*data.MNIST_FILES.values(), nm.NOTMNIST_FILE]:
        assert digests[name] == hashlib.sha256((SHARED / name).read_bytes()).hexdigest()
    assert digests[nm.NOTMNIST_FILE] == "bb7fcb3aa8122f66402406ac6cd60fa93655e38b1ece53612347685b140ed71a"
    assert digests["notmnist (decoded)"] == data.CONTENT_SHA256["notmnist"]
    # Fashion-MNIST: the bytes of the (Debian-recompressed) files found, from the README
    assert digests[FASHION_IMAGES] == "cc1d090a38ace84dfa1aa66e3ada7c336ef481a96936906477e6dd344da56eaa"
    assert digests[FASHION_LABELS] == "8d3605d196f4be44669e46906da9733c8131fef761fdbfec72c424d5222f1a05"
    assert digests["fashion_mnist (decoded)"] == FASHION_CONTENT_SHA256


# --------------------------------------------------------------------- real notMNIST


@needs_real_data
def test_notmnist_shapes_counts_order_and_mean(notmnist):
    x, y = notmnist.x, notmnist.y
    assert x.shape == (18724, 28, 28, 1) and x.dtype == np.float32
    assert y.shape == (18724,) and y.dtype == np.int64
    assert 0.0 <= x.min() and x.max() <= 1.0
    assert np.bincount(y, minlength=10).tolist() == NOTMNIST_COUNTS
    assert np.all(np.diff(y) >= 0)  # letters A..J in order
    assert float(x.astype(np.float64).mean()) * 255 == pytest.approx(108.4677, abs=5e-5)


@needs_real_data
def test_notmnist_decoded_cache_is_reused_and_lives_in_the_cache(notmnist, monkeypatch):
    cached = _files_under(notmnist.cache)
    assert [p.suffix for p in cached] == [".npz"] and "bb7fcb3aa8122f66" in cached[0].name
    with np.load(cached[0], allow_pickle=False) as npz:  # plain arrays, nothing pickled
        assert npz["x"].dtype == np.uint8 and npz["x"].shape == (18724, 28, 28)

    def no_decoding(archive):
        raise AssertionError("decoded again although a verified cache exists")

    monkeypatch.setenv("CDE_CACHE_DIR", str(notmnist.cache))
    monkeypatch.setattr(nm, "_decode_notmnist", no_decoding)
    x, y = nm.load_notmnist(data_dir=SHARED)
    np.testing.assert_array_equal(x, notmnist.x)
    np.testing.assert_array_equal(y, notmnist.y)


# --------------------------------------------------------------------------- subsets


@needs_real_data
def test_mnist_subsets_first_n_and_seeded(mnist):
    (x_full, y_full), (xt_full, _) = mnist
    (x_first, y_first), (xt_first, _) = data.load_mnist(train_subset=100, test_subset=50, data_dir=SHARED)
    np.testing.assert_array_equal(x_first, x_full[:100])
    np.testing.assert_array_equal(y_first, y_full[:100])
    np.testing.assert_array_equal(xt_first, xt_full[:50])

    (x_a, y_a), _ = data.load_mnist(train_subset=100, test_subset=50, subset_seed=7, data_dir=SHARED)
    (x_b, y_b), _ = data.load_mnist(train_subset=100, test_subset=50, subset_seed=7, data_dir=SHARED)
    np.testing.assert_array_equal(x_a, x_b)
    np.testing.assert_array_equal(y_a, y_b)
    assert not np.array_equal(y_a, y_first)
    expected = np.sort(np.random.default_rng(7).choice(60000, size=100, replace=False))
    np.testing.assert_array_equal(y_a, y_full[expected])


@needs_real_data
def test_notmnist_subset_seeded_differs_from_first_n(notmnist, monkeypatch):
    monkeypatch.setenv("CDE_CACHE_DIR", str(notmnist.cache))  # reuse the decoded arrays
    _, y_first = nm.load_notmnist(subset=500, data_dir=SHARED)
    _, y_seeded = nm.load_notmnist(subset=500, subset_seed=1, data_dir=SHARED)
    _, y_again = nm.load_notmnist(subset=500, subset_seed=1, data_dir=SHARED)
    np.testing.assert_array_equal(y_first, notmnist.y[:500])
    assert set(y_first.tolist()) == {0}  # the first 500 are all A
    np.testing.assert_array_equal(y_seeded, y_again)
    assert len(set(y_seeded.tolist())) == 10


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"train_subset": 60001}, "train_subset=60001 is larger than the 60000 MNIST training images"),
        ({"test_subset": 10001}, "test_subset=10001 is larger than the 10000 MNIST test images"),
        ({"train_subset": 0}, "train_subset=0 must be a positive whole number"),
        ({"train_subset": 2.5}, "train_subset=2.5 must be a positive whole number"),
        ({"test_subset": True}, "test_subset=True must be a positive whole number"),
    ],
)
def test_bad_mnist_subset_fails_before_any_file_is_read(kwargs, match, tmp_path):
    with pytest.raises(DataError, match=match):
        data.load_mnist(data_dir=tmp_path / "empty", **kwargs)


def test_bad_notmnist_subset_fails(tmp_path):
    with pytest.raises(DataError, match="subset=18725 is larger than the 18724 notMNIST images"):
        nm.load_notmnist(subset=18725, data_dir=tmp_path)


# --------------------------------------------------------------- local HTTP server


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 (http.server's naming)
        self.server.requests.append(self.path)
        route = self.server.routes.get(self.path)
        if route is None:
            self.send_error(404)
            return
        body, sent = route["body"], route.get("send", len(route["body"]))
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body[:sent])  # sent < len(body): the transfer breaks off
        self.close_connection = True

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    """An HTTP server on 127.0.0.1: ``routes[path] = {"body": bytes, "send": n}``."""
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.routes, httpd.requests = {}, []
    httpd.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


def _real(name: str) -> bytes:
    if SHARED is None:
        pytest.skip("real data not available: CDE_DATA_DIR is not set (e.g. CDE_DATA_DIR=../shared/data)")
    return (SHARED / name).read_bytes()


def _flip(raw: bytes, at: int = 100) -> bytes:
    return raw[:at] + bytes([raw[at] ^ 0xFF]) + raw[at + 1 :]


def test_download_mnist_then_load_from_cache_without_requests(server, monkeypatch, isolated):
    for name in data.MNIST_FILES.values():
        server.routes[f"/m/{name}"] = {"body": _real(name)}
        monkeypatch.setitem(files.MIRRORS, name, [f"{server.url}/m/{name}"])
    (_, y_train), (x_test, y_test) = data.load_mnist(test_subset=10)
    assert len(server.requests) == 4
    assert np.bincount(y_train, minlength=10).tolist() == TRAIN_COUNTS
    assert x_test.shape == (10, 28, 28, 1)
    assert sorted(p.name for p in _files_under(isolated)) == sorted(data.MNIST_FILES.values())

    data.load_mnist(train_subset=5, test_subset=5)
    assert files.find_data_file(LABELS) == isolated / LABELS
    assert len(server.requests) == 4  # served from the cache


def test_404_on_first_mirror_falls_back_to_second(server, monkeypatch, isolated):
    server.routes["/good/" + LABELS] = {"body": _real(LABELS)}
    monkeypatch.setitem(files.MIRRORS, LABELS, [f"{server.url}/gone/{LABELS}", f"{server.url}/good/{LABELS}"])
    path = files.find_data_file(LABELS)
    assert server.requests == [f"/gone/{LABELS}", f"/good/{LABELS}"]
    assert path == isolated / LABELS and path.read_bytes() == _real(LABELS)


def test_corrupt_download_is_rejected_and_nothing_is_cached(server, monkeypatch, isolated):
    corrupt = _flip(_real(LABELS))
    server.routes["/bad/" + LABELS] = {"body": corrupt}
    monkeypatch.setitem(files.MIRRORS, LABELS, [f"{server.url}/bad/{LABELS}"])
    with pytest.raises(DataError) as err:
        files.find_data_file(LABELS)
    message = str(err.value)
    assert hashlib.sha256(corrupt).hexdigest() in message  # actual
    assert files.FILE_SHA256[LABELS] in message  # expected
    assert str(isolated / LABELS) in message and "removed" in message
    assert _files_under(isolated) == []


def test_corrupt_first_mirror_falls_back_to_a_good_one(server, monkeypatch, isolated):
    server.routes["/bad/" + LABELS] = {"body": _flip(_real(LABELS))}
    server.routes["/good/" + LABELS] = {"body": _real(LABELS)}
    monkeypatch.setitem(files.MIRRORS, LABELS, [f"{server.url}/bad/{LABELS}", f"{server.url}/good/{LABELS}"])
    assert files.find_data_file(LABELS).read_bytes() == _real(LABELS)
    assert _files_under(isolated) == [isolated / LABELS]


def test_interrupted_download_leaves_nothing_behind(server, monkeypatch, isolated):
    server.routes["/cut/" + LABELS] = {"body": _real(LABELS), "send": 1000}
    monkeypatch.setitem(files.MIRRORS, LABELS, [f"{server.url}/cut/{LABELS}"])
    with pytest.raises(DataError, match="interrupted"):
        files.find_data_file(LABELS)
    assert server.requests == [f"/cut/{LABELS}"]
    assert _files_under(isolated) == []


def test_corrupt_copy_in_cache_is_replaced_by_a_fresh_download(server, monkeypatch, isolated):
    isolated.mkdir()
    (isolated / LABELS).write_bytes(_flip(_real(LABELS)))
    server.routes["/good/" + LABELS] = {"body": _real(LABELS)}
    monkeypatch.setitem(files.MIRRORS, LABELS, [f"{server.url}/good/{LABELS}"])
    assert files.find_data_file(LABELS).read_bytes() == _real(LABELS)
    assert len(server.requests) == 1


def test_missing_file_without_network_names_file_places_url_and_fix(tmp_path, monkeypatch, isolated):
    empty = tmp_path / "data"
    empty.mkdir()
    monkeypatch.setenv("CDE_DATA_DIR", str(empty))
    urls = [_closed_port_url(f"a/{LABELS}"), _closed_port_url(f"b/{LABELS}")]
    monkeypatch.setitem(files.MIRRORS, LABELS, urls)
    with pytest.raises(DataError) as err:
        files.find_data_file(LABELS)
    message = str(err.value)
    for part in (
        LABELS,
        str(empty),
        "(CDE_DATA_DIR)",
        str(isolated),
        *urls,
        "could not connect",
        "set CDE_DATA_DIR to a folder that holds it (e.g. CDE_DATA_DIR=../shared/data)",
    ):
        assert part in message
    assert message.count(".") >= 1 and "\n" not in message
    assert _files_under(isolated) == [] and _files_under(empty) == []


def test_corrupt_file_in_data_dir_raises_and_is_left_in_place(tmp_path, monkeypatch, isolated):
    folder = tmp_path / "data"
    folder.mkdir()
    corrupt = _flip(_real(LABELS))
    (folder / LABELS).write_bytes(corrupt)
    monkeypatch.setitem(files.MIRRORS, LABELS, [_closed_port_url(LABELS)])
    with pytest.raises(DataError) as err:
        files.find_data_file(LABELS, data_dir=folder)
    message = str(err.value)
    assert str(folder / LABELS) in message
    assert hashlib.sha256(corrupt).hexdigest() in message and files.FILE_SHA256[LABELS] in message
    assert "left in place" in message
    assert (folder / LABELS).read_bytes() == corrupt
    assert _files_under(isolated) == []


def test_unknown_file_name_is_refused():
    with pytest.raises(DataError, match="Unknown data file 'mnist.npz'"):
        files.find_data_file("mnist.npz")


# ------------------------------------------------------------------------ IDX parsing


def _idx(magic: int, dims: tuple[int, ...], payload: bytes) -> bytes:
    return np.array([magic, *dims], dtype=">u4").tobytes() + payload


def test_parse_idx_reads_images_and_labels():
    pixels = np.arange(2 * 28 * 28, dtype=np.uint32).astype(np.uint8).reshape(2, 28, 28)
    images = data._parse_idx(_idx(2051, (2, 28, 28), pixels.tobytes()), 2051, "x")
    np.testing.assert_array_equal(images, pixels)
    labels = data._parse_idx(_idx(2049, (3,), bytes([7, 0, 9])), 2049, "y")
    assert labels.tolist() == [7, 0, 9]


@pytest.mark.parametrize(
    ("raw", "magic", "match"),
    [
        (_idx(2049, (3,), bytes(3)), 2051, "magic number 2049 but 2051 was expected"),
        (_idx(2051, (2, 28, 28), bytes(28 * 28)), 2051, "announces 2 items"),
        (_idx(2049, (3,), bytes(5)), 2049, "truncated or corrupt"),
        (b"\x00\x00\x08", 2049, "shorter than its IDX header"),
        (_idx(2051, (1, 32, 32), bytes(32 * 32)), 2051, "32x32 pixels, not 28x28"),
    ],
)
def test_parse_idx_rejects_bad_headers_and_truncation(raw, magic, match):
    with pytest.raises(DataError, match=match):
        data._parse_idx(raw, magic, "some.idx")


def test_read_idx_rejects_a_broken_gzip(tmp_path):
    path = tmp_path / "labels.gz"
    path.write_bytes(gzip.compress(_idx(2049, (3,), bytes(3)))[:-10])
    with pytest.raises(DataError, match="not a readable gzip file"):
        data._read_idx(path, 2049)


# --------------------------------------------------------------- synthetic notMNIST


def _png(value: int, mode: str = "L") -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(np.full((28, 28), value, np.uint8)).convert(mode).save(buffer, "PNG")
    return buffer.getvalue()


def _write_tar(path: Path, members: list[tarfile.TarInfo | tuple[str, bytes]]) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for member in members:
            if isinstance(member, tarfile.TarInfo):
                tar.addfile(member)
            else:
                info = tarfile.TarInfo(member[0])
                info.size = len(member[1])
                tar.addfile(info, io.BytesIO(member[1]))
    return path


def _synthetic_notmnist(folder: Path) -> tuple[Path, np.ndarray, np.ndarray]:
    """A small archive in upstream layout with names out of order and one empty PNG,
    and the uint8 (x, y) the loader must produce from it."""
    members, expected = [], []
    for label, letter in enumerate(nm.NOTMNIST_LETTERS):
        # written in reverse name order: the loader must sort names within a letter
        for name, value in (("b.png", 10 * label + 2), ("a.png", 10 * label + 1)):
            members.append((f"notMNIST_small/{letter}/{name}", _png(value)))
        expected += [(label, 10 * label + 1), (label, 10 * label + 2)]
    members.insert(3, ("notMNIST_small/A/0_empty.png", b""))  # unreadable: skipped
    members.insert(0, ("notMNIST_small/README.txt", b"not an image"))  # ignored
    folder.mkdir(exist_ok=True)
    archive = _write_tar(folder / nm.NOTMNIST_FILE, members)
    y = np.array([label for label, _ in expected], np.uint8)
    x = np.stack([np.full((28, 28), value, np.uint8) for _, value in expected])
    return archive, x, y


def test_synthetic_notmnist_order_labels_and_cache(tmp_path, monkeypatch, isolated):
    archive, x_u8, y_u8 = _synthetic_notmnist(tmp_path / "data")
    monkeypatch.setattr(nm, "CONTENT_SHA256", files.content_sha256(x_u8, y_u8))
    x, y = nm.load_notmnist(data_dir=archive.parent)
    assert y.dtype == np.int64 and y.tolist() == y_u8.tolist()
    assert x.dtype == np.float32 and x.shape == (20, 28, 28, 1)
    np.testing.assert_array_equal(np.rint(x[..., 0] * 255).astype(np.uint8), x_u8)
    assert [p.name for p in _files_under(archive.parent)] == [nm.NOTMNIST_FILE]  # data dir untouched
    (cached,) = _files_under(isolated / "decoded")
    assert hashlib.sha256(archive.read_bytes()).hexdigest()[:32] in cached.name


@pytest.mark.parametrize("damage", ["other arrays", "garbage bytes"])
def test_stale_or_corrupt_decoded_cache_is_not_used(damage, tmp_path, monkeypatch, isolated):
    archive, x_u8, y_u8 = _synthetic_notmnist(tmp_path / "data")
    monkeypatch.setattr(nm, "CONTENT_SHA256", files.content_sha256(x_u8, y_u8))
    nm.load_notmnist(data_dir=archive.parent)
    (cached,) = _files_under(isolated / "decoded")
    if damage == "other arrays":
        np.savez(cached, x=np.zeros_like(x_u8), y=y_u8)
    else:
        cached.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.warns(UserWarning, match="stale or corrupt decoded cache"):
        x, y = nm.load_notmnist(data_dir=archive.parent)
    np.testing.assert_array_equal(np.rint(x[..., 0] * 255).astype(np.uint8), x_u8)
    with np.load(cached, allow_pickle=False) as npz:  # rewritten with the good arrays
        np.testing.assert_array_equal(npz["x"], x_u8)


def test_notmnist_wrong_content_in_data_dir_raises_and_is_left(tmp_path, isolated):
    archive, _, _ = _synthetic_notmnist(tmp_path / "data")  # real digest expected: mismatch
    before = archive.read_bytes()
    with pytest.raises(DataError) as err:
        nm.load_notmnist(data_dir=archive.parent)
    message = str(err.value)
    assert str(archive) in message and data.CONTENT_SHA256["notmnist"] in message
    assert "decodes to 20 images" in message and "left in place" in message
    assert archive.read_bytes() == before
    assert _files_under(isolated) == []


def test_downloaded_notmnist_with_wrong_content_is_removed_from_cache(tmp_path, server, monkeypatch, isolated):
    archive, _, _ = _synthetic_notmnist(tmp_path / "src")
    server.routes["/nm.tar.gz"] = {"body": archive.read_bytes()}
    monkeypatch.setitem(files.MIRRORS, nm.NOTMNIST_FILE, [f"{server.url}/nm.tar.gz"])
    with pytest.raises(DataError, match="removed from the cache"):
        nm.load_notmnist()
    assert server.requests == ["/nm.tar.gz"]
    assert _files_under(isolated) == []


# -------------------------------------------------------------------- unsafe archives


def _link(name: str, kind: bytes, target: str) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, target
    return info


@pytest.mark.parametrize(
    ("member", "match"),
    [
        (("notMNIST_small/A/../../evil.png", _png(1)), "absolute or contains '..'"),
        (("../evil.png", _png(1)), "absolute or contains '..'"),
        (("/tmp/evil.png", _png(1)), "absolute or contains '..'"),
        (_link("notMNIST_small/A/link.png", tarfile.SYMTYPE, "/etc/passwd"), "is a link to '/etc/passwd'"),
        (_link("notMNIST_small/A/hard.png", tarfile.LNKTYPE, "notMNIST_small/A/a.png"), "is a link to"),
        (_link("notMNIST_small/A/fifo", tarfile.FIFOTYPE, ""), "not a regular file or folder"),
    ],
)
def test_unsafe_tar_members_are_refused(member, match, tmp_path, isolated):
    folder = tmp_path / "data"
    folder.mkdir()
    archive = _write_tar(folder / nm.NOTMNIST_FILE, [("notMNIST_small/A/a.png", _png(5)), member])
    with pytest.raises(DataError, match=match) as err:
        nm.load_notmnist(data_dir=folder)
    name = member.name if isinstance(member, tarfile.TarInfo) else member[0]
    assert repr(name) in str(err.value) and str(archive) in str(err.value)
    assert [p.name for p in _files_under(tmp_path)] == [nm.NOTMNIST_FILE]  # nothing extracted


def test_truncated_archive_is_a_clear_error(tmp_path):
    folder = tmp_path / "data"
    folder.mkdir()
    archive, _, _ = _synthetic_notmnist(tmp_path / "src")
    (folder / nm.NOTMNIST_FILE).write_bytes(archive.read_bytes()[:-200])
    with pytest.raises(DataError, match="is not a readable tar.gz archive"):
        nm.load_notmnist(data_dir=folder)
    assert (folder / nm.NOTMNIST_FILE).exists()


# --------------------------------------------------------------------- Fashion-MNIST


def _upstream(name: str) -> str:
    """The upstream (and Debian) file name of a local Fashion-MNIST file name."""
    return name.removeprefix("fashion-")


def _regzip(raw_gz: bytes, **changes) -> bytes:
    """Same IDX content in a differently compressed .gz wrapper (other bytes), optionally
    with one byte of the uncompressed data flipped (``flip_at``)."""
    raw = gzip.decompress(raw_gz)
    if "flip_at" in changes:
        raw = _flip(raw, changes["flip_at"])
    return gzip.compress(raw, compresslevel=1, mtime=0)


def _serve_fashion(server, monkeypatch, bodies: dict[str, bytes], prefix: str = "/z") -> None:
    """Serve ``bodies[local name]`` under its upstream name and point MIRRORS there."""
    for name, body in bodies.items():
        route = f"{prefix}/{_upstream(name)}"
        server.routes[route] = {"body": body}
        monkeypatch.setitem(files.MIRRORS, name, [server.url + route])


@pytest.fixture(scope="module")
def fashion(tmp_path_factory):
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(files, "MIRRORS", _offline_mirrors())
        mp.setattr(files, "PACKAGE_PATHS", _absent_package_paths(tmp_path_factory.mktemp("pkg")))
        mp.setenv("CDE_CACHE_DIR", str(tmp_path_factory.mktemp("fashion_cache")))
        return data.load_fashion_mnist(data_dir=SHARED)


@needs_real_data
def test_fashion_shapes_counts_mean_and_published_digest(fashion):
    x, y = fashion
    assert x.shape == (10000, 28, 28, 1) and x.dtype == np.float32
    assert y.shape == (10000,) and y.dtype == np.int64
    assert x.min() == 0.0 and x.max() == 1.0
    assert np.bincount(y, minlength=10).tolist() == [1000] * 10
    assert float(x.astype(np.float64).mean()) * 255 == pytest.approx(73.1466, abs=5e-5)
    # Independent route to the README's digest: undo the scaling, hash images then labels.
    pixels = np.rint(x[..., 0] * 255).astype(np.uint8)
    digest = hashlib.sha256(pixels.tobytes() + y.astype(np.uint8).tobytes()).hexdigest()
    assert digest == FASHION_CONTENT_SHA256


def test_fashion_class_names_follow_the_upstream_label_order():
    assert data.FASHION_CLASSES == ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")  # fmt: skip


def test_fashion_files_are_named_apart_from_mnist_and_fetched_from_zalandoresearch():
    assert not set(data.FASHION_FILES.values()) & set(data.MNIST_FILES.values())
    assert data.IDX_SHA256 == FASHION_IDX_SHA256
    for name in data.FASHION_FILES.values():
        assert PACKAGE_PATHS[name] == Path("/usr/share/datasets/fashion-mnist") / _upstream(name)
        assert [url.split("/")[2] for url in MIRRORS[name]] == [
            "raw.githubusercontent.com",
            "fashion-mnist.s3-website.eu-central-1.amazonaws.com",
        ]
        assert "/zalandoresearch/fashion-mnist/" in MIRRORS[name][0]
        assert all(url.endswith("/" + _upstream(name)) for url in MIRRORS[name])


@needs_real_data
def test_fashion_subsets_first_n_and_seeded(fashion):
    x_full, y_full = fashion
    x_first, y_first = data.load_fashion_mnist(subset=30, data_dir=SHARED)
    np.testing.assert_array_equal(x_first, x_full[:30])
    _, y_seeded = data.load_fashion_mnist(subset=30, subset_seed=3, data_dir=SHARED)
    expected = np.sort(np.random.default_rng(3).choice(10000, size=30, replace=False))
    np.testing.assert_array_equal(y_seeded, y_full[expected])


def test_bad_fashion_subset_fails_before_any_file_is_read(tmp_path):
    with pytest.raises(DataError, match="subset=10001 is larger than the 10000 Fashion-MNIST test images"):
        data.load_fashion_mnist(subset=10001, data_dir=tmp_path / "empty")


@needs_real_data
def test_fashion_is_read_from_the_debian_package_path_without_copying(tmp_path, monkeypatch, isolated):
    package = tmp_path / "usr-share-datasets-fashion-mnist"
    package.mkdir()
    for name in data.FASHION_FILES.values():  # Debian installs the upstream names
        (package / _upstream(name)).write_bytes(_real(name))
    monkeypatch.setattr(files, "PACKAGE_PATHS", {n: package / _upstream(n) for n in data.FASHION_FILES.values()})
    empty = tmp_path / "data"
    empty.mkdir()
    monkeypatch.setenv("CDE_DATA_DIR", str(empty))
    assert files.find_data_file(FASHION_IMAGES) == package / _upstream(FASHION_IMAGES)
    _, y = data.load_fashion_mnist(subset=20)
    assert y.tolist() == np.frombuffer(gzip.decompress(_real(FASHION_LABELS)), np.uint8)[8:28].tolist()
    assert _files_under(isolated) == []  # nothing cached or downloaded

    # A data folder that holds the files wins over the package.
    monkeypatch.setenv("CDE_DATA_DIR", str(SHARED))
    assert files.find_data_file(FASHION_IMAGES) == SHARED / FASHION_IMAGES


def test_fashion_download_accepts_any_gzip_wrapper_of_the_right_content_then_uses_the_cache(server, monkeypatch, isolated):
    # Other .gz bytes than both upstream's and Debian's: only the uncompressed bytes count.
    bodies = {name: _regzip(_real(name)) for name in data.FASHION_FILES.values()}
    assert bodies[FASHION_LABELS] != _real(FASHION_LABELS)
    _serve_fashion(server, monkeypatch, bodies)
    x, y = data.load_fashion_mnist(subset=5)
    assert server.requests == [f"/z/{_upstream(FASHION_IMAGES)}", f"/z/{_upstream(FASHION_LABELS)}"]
    assert x.shape == (5, 28, 28, 1) and y.dtype == np.int64
    assert sorted(p.name for p in _files_under(isolated)) == sorted(data.FASHION_FILES.values())

    data.load_fashion_mnist(subset=5)
    assert len(server.requests) == 2  # served from the cache


def test_fashion_404_on_first_mirror_falls_back_to_zalandos_second_host(server, monkeypatch, isolated):
    server.routes["/s3/" + _upstream(FASHION_LABELS)] = {"body": _real(FASHION_LABELS)}
    monkeypatch.setitem(files.MIRRORS, FASHION_LABELS, [f"{server.url}/gh/{_upstream(FASHION_LABELS)}",
                                                       f"{server.url}/s3/{_upstream(FASHION_LABELS)}"])  # fmt: skip
    path = files.find_data_file(FASHION_LABELS)
    assert [r.split("/")[1] for r in server.requests] == ["gh", "s3"]
    assert path == isolated / FASHION_LABELS and path.read_bytes() == _real(FASHION_LABELS)


def test_fashion_download_with_wrong_content_is_removed_from_the_cache(server, monkeypatch, isolated):
    folder = isolated.parent / "data"
    folder.mkdir()
    (folder / FASHION_IMAGES).write_bytes(_real(FASHION_IMAGES))  # images fine, labels downloaded
    corrupt = _regzip(_real(FASHION_LABELS), flip_at=100)
    _serve_fashion(server, monkeypatch, {FASHION_LABELS: corrupt})
    with pytest.raises(DataError) as err:
        data.load_fashion_mnist(data_dir=folder)
    message = str(err.value)
    assert str(isolated / FASHION_LABELS) in message
    assert hashlib.sha256(gzip.decompress(corrupt)).hexdigest() in message  # actual
    assert FASHION_IDX_SHA256[FASHION_LABELS] in message  # expected
    assert "removed from the cache" in message and "\n" not in message
    assert _files_under(isolated) == []
    assert [p.name for p in _files_under(folder)] == [FASHION_IMAGES]


def test_fashion_interrupted_download_leaves_nothing_behind(server, monkeypatch, isolated):
    route = f"/cut/{_upstream(FASHION_LABELS)}"
    server.routes[route] = {"body": _real(FASHION_LABELS), "send": 1000}
    monkeypatch.setitem(files.MIRRORS, FASHION_LABELS, [server.url + route])
    with pytest.raises(DataError, match="interrupted"):
        files.find_data_file(FASHION_LABELS)
    assert _files_under(isolated) == []


def test_fashion_unreadable_gzip_in_cache_is_removed_then_downloaded_again(server, monkeypatch, isolated):
    isolated.mkdir()
    (isolated / FASHION_LABELS).write_bytes(_real(FASHION_LABELS)[:-50])  # truncated gzip
    (isolated / FASHION_IMAGES).write_bytes(_real(FASHION_IMAGES))
    with pytest.raises(DataError, match="not a readable gzip file .*removed from the cache"):
        data.load_fashion_mnist(subset=1)
    assert [p.name for p in _files_under(isolated)] == [FASHION_IMAGES]
    _serve_fashion(server, monkeypatch, {FASHION_LABELS: _real(FASHION_LABELS)})
    _, y = data.load_fashion_mnist(subset=1)
    assert len(server.requests) == 1 and y.shape == (1,)


def test_fashion_wrong_file_in_data_dir_raises_and_is_left_in_place(tmp_path, isolated):
    folder = tmp_path / "data"
    folder.mkdir()
    wrong = _real(LABELS)  # MNIST's labels under the Fashion-MNIST name: a plausible mix-up
    (folder / FASHION_LABELS).write_bytes(wrong)
    (folder / FASHION_IMAGES).write_bytes(_real(FASHION_IMAGES))
    with pytest.raises(DataError) as err:
        data.load_fashion_mnist(data_dir=folder)
    message = str(err.value)
    assert str(folder / FASHION_LABELS) in message and FASHION_IDX_SHA256[FASHION_LABELS] in message
    assert "left in place" in message
    assert (folder / FASHION_LABELS).read_bytes() == wrong
    assert _files_under(isolated) == []


def test_missing_fashion_file_names_every_place_searched_and_the_fix(tmp_path, monkeypatch, isolated):
    empty = tmp_path / "data"
    empty.mkdir()
    monkeypatch.setenv("CDE_DATA_DIR", str(empty))
    url = _closed_port_url(_upstream(FASHION_LABELS))
    monkeypatch.setitem(files.MIRRORS, FASHION_LABELS, [url])
    with pytest.raises(DataError) as err:
        files.find_data_file(FASHION_LABELS)
    message = str(err.value)
    for part in (FASHION_LABELS, f"{empty} (CDE_DATA_DIR)", f"{files.PACKAGE_PATHS[FASHION_LABELS]} (system package)",
                 str(isolated), url, "could not connect", "set CDE_DATA_DIR"):  # fmt: skip
        assert part in message
    assert "\n" not in message


def test_synthetic_fashion_files_decode_in_file_order(tmp_path, monkeypatch, isolated):
    pixels = np.arange(3 * 28 * 28, dtype=np.uint32).astype(np.uint8).reshape(3, 28, 28)
    labels = np.array([9, 0, 4], np.uint8)
    raws = {FASHION_IMAGES: _idx(2051, (3, 28, 28), pixels.tobytes()), FASHION_LABELS: _idx(2049, (3,), labels.tobytes())}
    folder = tmp_path / "data"
    folder.mkdir()
    for name, raw in raws.items():
        (folder / name).write_bytes(gzip.compress(raw))
        monkeypatch.setitem(data.IDX_SHA256, name, hashlib.sha256(raw).hexdigest())
    monkeypatch.setitem(data.CONTENT_SHA256, "fashion_mnist", files.content_sha256(pixels, labels))
    monkeypatch.setattr(data, "FASHION_SIZE", 3)
    x, y = data.load_fashion_mnist(data_dir=folder)
    assert y.tolist() == [9, 0, 4]
    np.testing.assert_array_equal(np.rint(x[..., 0] * 255).astype(np.uint8), pixels)


def test_an_oversized_image_in_the_letters_archive_is_skipped_not_a_traceback(monkeypatch):
    import io as _io

    from PIL import Image

    buf = _io.BytesIO()
    Image.new("L", (64, 64)).save(buf, format="PNG")
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100)  # 64 x 64 is then a "decompression bomb"
    assert nm._decode_png(buf.getvalue()) is None

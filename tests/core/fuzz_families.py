"""The damaged inputs, family by family: each function returns seeded :class:`Case` lists.

``base`` holds valid artifacts (see :func:`build_base`); each case copies one into ``work``,
damages the copy and names the command that reads it.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from fuzzing import (
    Case,
    RawText,
    deep_json,
    deep_toml,
    flip_bits,
    h5_attr,
    h5_declare,
    h5_del,
    h5_edit,
    h5_set,
    jpeg_bomb,
    npy_bytes,
    npy_with_header,
    st_header_edit,
    st_meta_edit,
    st_poke,
    truncate,
)
from helpers import REPO

STUDENT_TRAIN = ["--alpha", "0", "--size", "8", "--clip", "E2-S1", "--channels", "3",
                 "--hidden", "6", "--steps-per-frame", "2", "--augment", "none",
                 "--no-progress"]


@dataclass
class Base:
    root: Path
    see: Path
    student: Path  # checkpoint, trained 1 epoch (optimizer and RNG state)
    teacher: Path
    student_net: Path  # converted, with its encoding
    net: Path  # bias-driven conv + dense
    x: Path  # its input
    spk_net: Path  # spike input, dense first
    spk_x: Path
    profile: Path  # loihi1.toml
    nir: Path  # the student as NIR


def build_base(root: Path) -> Base:
    """Valid artifacts to damage: a tiny dataset, a trained student and teacher, networks,
    inputs and a profile."""
    from mskd.convert.pipeline import convert_checkpoint

    from mskd.cli import main
    from mskd.data.synth import synthesize
    from mskd.net.netx_io import write_netx
    from mskd.net.spec import ConvLayer, DenseLayer, FlattenLayer, InputLayer, LifNeuron, NetSpec

    see = synthesize(root / "see", subjects=2, seed=1, size=8, min_length=4, max_length=6)
    for argv in (["train", "student", see, "--out", root / "s", "--epochs", "1",
                  *STUDENT_TRAIN],
                 ["train", "teacher", see, "--out", root / "t", "--epochs", "1", "--size", "8",
                  "--clip", "E2-S1", "--channels", "2", "--hidden", "4", "--augment", "none",
                  "--no-progress"]):
        try:
            main([str(a) for a in argv])
        except SystemExit as exc:
            assert not exc.code, argv
    student = root / "s" / "checkpoint.safetensors"
    from mskd.convert.pipeline import ConvertOptions

    convert_checkpoint(student, root / "student.net", ConvertOptions(nir=str(root / "s.nir")))
    rng = np.random.default_rng(0)
    lif = LifNeuron(1024, 128, 64)
    write_netx(NetSpec((InputLayer((1, 8, 8), lif),
                        ConvLayer((1, 8, 8), (4, 4, 4), rng.integers(-20, 40, (4, 1, 3, 3)),
                                  (2, 2), (1, 1), (1, 1), 1, lif),
                        FlattenLayer((4, 4, 4), (64,)),
                        DenseLayer(64, 3, rng.integers(-20, 40, (3, 64)), lif,
                                   None, rng.integers(0, 3, 3)))), root / "net.net")
    np.save(root / "x.npy", rng.integers(0, 160, (2, 5, 1, 8, 8)))
    write_netx(NetSpec((InputLayer((16,)),
                        DenseLayer(16, 4, rng.integers(-40, 80, (4, 16)), lif),
                        DenseLayer(4, 3, rng.integers(-40, 80, (3, 4)), lif))),
               root / "spk.net")
    np.save(root / "spk_x.npy", (rng.random((2, 5, 16)) < 0.3).astype(np.uint8))
    shutil.copyfile(REPO / "hw_profiles" / "loihi1.toml",
                    root / "loihi1.toml")
    return Base(root, see, student, root / "t" / "checkpoint.safetensors",
                root / "student.net", root / "net.net", root / "x.npy", root / "spk.net",
                root / "spk_x.npy", root / "loihi1.toml", root / "s.nir")


class Namer:
    """Fresh numbered paths under ``work``."""

    def __init__(self, work: Path, family: str) -> None:
        self.dir = work / family
        self.dir.mkdir(parents=True, exist_ok=True)
        self.n = 0

    def __call__(self, suffix: str) -> Path:
        self.n += 1
        return self.dir / f"{self.n:04d}{suffix}"

    def out(self) -> Path:
        self.n += 1
        return self.dir / f"out-{self.n:04d}"


# -- netx ----------------------------------------------------------------------------------

def _netx_edits() -> list[tuple[str, object]]:
    big = 2**64 - 5
    return [
        ("type empty", h5_set("layer/1/type", np.array([], dtype="S10"))),
        ("type pool", h5_set("layer/1/type", np.array([b"pool"]))),
        ("type not ascii", h5_set("layer/1/type", np.array([b"\xff\xfe"]))),
        ("type int", h5_set("layer/1/type", np.array([3]))),
        ("type two", h5_set("layer/1/type", np.array([b"conv", b"dense"]))),
        ("shape empty", h5_set("layer/1/shape", np.array([], dtype=np.int64))),
        ("shape negative", h5_set("layer/1/shape", np.array([-4, 4, 4]))),
        ("shape zero", h5_set("layer/1/shape", np.array([0, 4, 4]))),
        ("shape huge", h5_set("layer/1/shape", np.array([10**9, 1, 1]))),
        ("shape nan", h5_set("layer/1/shape", np.array([np.nan, 4, 4]))),
        ("shape 4 dims", h5_set("layer/1/shape", np.array([4, 4, 4, 1]))),
        ("shape float", h5_set("layer/1/shape", np.array([4.5, 4, 4]))),
        ("weight 40000^2 declared", h5_declare("layer/3/weight", (40000, 40000))),
        ("weight 1e9 x 512 declared", h5_declare("layer/3/weight", (10**9, 512))),
        ("weight 6 dims declared", h5_declare("layer/1/weight", (2, 2, 2, 2, 2, 2))),
        ("weight uint64 2^64-5", h5_set("layer/3/weight",
                                        np.full((3, 64), big, dtype=np.uint64))),
        ("weight nan", h5_set("layer/3/weight", np.full((3, 64), np.nan))),
        ("weight inf", h5_set("layer/3/weight", np.full((3, 64), np.inf))),
        ("weight text", h5_set("layer/3/weight", np.array([b"abc"] * 3))),
        ("weight complex", h5_set("layer/3/weight", np.ones((3, 64), np.complex64))),
        ("weight transposed", h5_set("layer/3/weight", np.ones((64, 3), np.int64))),
        ("weight 3 dims dense", h5_set("layer/3/weight", np.ones((3, 8, 8), np.int64))),
        ("weight 2^40", h5_set("layer/3/weight", np.full((3, 64), 2**40))),
        ("conv weight wrong in", h5_set("layer/1/weight", np.ones((4, 3, 3, 3), np.int64))),
        ("weight compound", h5_set("layer/3/weight", np.zeros(3, dtype=[("a", "i4")]))),
        ("weight scalar", h5_set("layer/3/weight", 5)),
        ("stride empty", h5_set("layer/1/stride", np.array([], dtype=np.int64))),
        ("stride three", h5_set("layer/1/stride", np.array([1, 2, 3]))),
        ("stride zero", h5_set("layer/1/stride", np.array([0, 0]))),
        ("stride negative", h5_set("layer/1/stride", np.array([-1, -1]))),
        ("padding negative", h5_set("layer/1/padding", np.array([-1, -1]))),
        ("padding huge", h5_set("layer/1/padding", np.array([10**6, 10**6]))),
        ("dilation zero", h5_set("layer/1/dilation", np.array([0, 0]))),
        ("groups zero", h5_set("layer/1/groups", 0)),
        ("groups 3", h5_set("layer/1/groups", 3)),
        ("groups negative", h5_set("layer/1/groups", -1)),
        ("delay negative", h5_set("layer/3/delay", np.array([-1, 0, 1]))),
        ("delay not whole", h5_set("layer/3/delay", np.array([2.5, 0, 1]))),
        ("delay wrong length", h5_set("layer/3/delay", np.array([1, 2]))),
        ("iDecay -1", h5_set("layer/1/neuron/iDecay", -1)),
        ("iDecay 5000", h5_set("layer/1/neuron/iDecay", 5000)),
        ("vDecay nan", h5_set("layer/1/neuron/vDecay", np.nan)),
        ("vThMant 2^40", h5_set("layer/1/neuron/vThMant", 2**40)),
        ("vThMant negative", h5_set("layer/1/neuron/vThMant", -5)),
        ("vThMant two values", h5_set("layer/1/neuron/vThMant", np.array([1, 2]))),
        ("neuron type XYZ", h5_set("layer/1/neuron/type", np.array([b"XYZ"]))),
        ("neuron no vThMant", h5_del("layer/1/neuron/vThMant")),
        ("neuron messageBits", h5_set("layer/1/neuron/messageBits", 3)),
        ("input neuron no iDecay", h5_del("layer/0/neuron/iDecay")),
        ("bias wrong length", h5_set("layer/3/bias", np.array([1, 2]))),
        ("bias 2^40", h5_set("layer/3/bias", np.full(3, 2**40))),
        ("bias nan", h5_set("layer/3/bias", np.full(3, np.nan))),
        ("no weight", h5_del("layer/3/weight")),
        ("no shape", h5_del("layer/1/shape")),
        ("no type", h5_del("layer/1/type")),
        ("layer gap", lambda f: f.move("layer/3", "layer/7")),
        ("layer named x", lambda f: f.move("layer/3", "layer/x")),
        ("no layers", lambda f: [f["layer"].__delitem__(k) for k in list(f["layer"])]),
        ("layer group a dataset", lambda f: (f.__delitem__("layer"),
                                             f.create_dataset("layer", data=1))),
        ("layer is a dataset", lambda f: (f["layer"].__delitem__("2"),
                                          f["layer"].create_dataset("2", data=1))),
        ("input layer twice", lambda f: (f["layer"].__delitem__("2"),
                                         f.copy("layer/0", "layer/2"))),
        ("flatten first", lambda f: [f.move(f"layer/{a}", f"layer/{b}") for a, b in
                                     (("0", "9"), ("2", "0"), ("9", "2"))]),
        ("weight group", lambda f: (f.__delitem__("layer/3/weight"),
                                    f.create_group("layer/3/weight/real"))),
    ]


def netx_cases(base: Base, work: Path) -> list[Case]:
    """Structured damage to a netx file, run by ``deploy run`` (and ``convert`` for some)."""
    name, cases = Namer(work, "netx"), []
    for what, edit in _netx_edits():
        net = h5_edit(base.net, name(".net"), edit)
        out = name.out()
        cases.append(Case(f"netx {what}", ["deploy", "run", net, "--input", base.x,
                                           "--out", out / "o.npz"], str(net), [out]))
    for what, edit in _netx_edits()[::4]:
        net = h5_edit(base.net, name(".net"), edit)
        out = name.out()
        cases.append(Case(f"netx via convert: {what}", ["convert", net, "--out",
                                                         out / "c.net"], str(net), [out]))
    raw = base.net.read_bytes()
    for cut in (0, 7, 100, 512, 1024, 2000, len(raw) // 2, len(raw) - 1):
        net = name(".net")
        net.write_bytes(raw[:cut])
        out = name.out()
        cases.append(Case(f"netx truncated at {cut}", ["deploy", "run", net, "--input",
                                                       base.x, "--out", out / "o.npz"],
                          str(net), [out]))
    net = name(".net")
    net.write_text("not hdf5 at all\n")
    cases.append(Case("netx text file", ["deploy", "run", net, "--input", base.x,
                                         "--out", name.out() / "o.npz"], str(net)))
    folder = name(".net")
    folder.mkdir()
    cases.append(Case("netx is a folder", ["deploy", "run", folder, "--input", base.x,
                                           "--out", name.out() / "o.npz"], str(folder)))
    return cases


def _encodings(enc: dict) -> list[tuple[str, object]]:
    def with_(**kw):
        return json.dumps({**enc, **kw})

    return [
        ("not json", "{oops"), ("a list", "[1, 2]"), ("null", "null"),
        ("deep", deep_json(100000)), ("input_gain text", with_(input_gain="160")),
        ("input_gain 0", with_(input_gain=0)), ("steps_per_frame 1e9",
                                                with_(steps_per_frame=10**9)),
        ("steps_per_frame float", with_(steps_per_frame=1e9)),
        ("steps_per_frame 0", with_(steps_per_frame=0)),
        ("classes wrong count", with_(classes=["a", "b", "c"])),
        ("classes one", with_(classes=["a"])), ("readout_layer 9", with_(readout_layer="9:dense")),
        ("readout_layer kind", with_(readout_layer="4:conv")),
        ("readout_layer text", with_(readout_layer="dense")),
        ("clip E0", with_(clip="E0-S1")),
        ("clip huge", with_(clip="E99999999-S1")),
        ("size mismatch", with_(size=[16, 16])), ("size huge", with_(size=[10**6, 10**6])),
        ("latency wrong", with_(latency=7)), ("latency negative", with_(latency=-1)),
        ("kind spikes", with_(kind="spikes")), ("unknown field", with_(extra=1)),
        ("readout_scale nan", with_(readout_scale=float("nan"))),
        ("readout_scale 0", with_(readout_scale=0)), ("history 5", with_(input_history=5)),
        ("missing field", json.dumps({k: v for k, v in enc.items() if k != "clip"})),
    ]


def encoding_cases(base: Base, work: Path) -> list[Case]:
    """The stored input encoding of a converted network, read by ``profile --data``."""
    import h5py

    name, cases = Namer(work, "encoding"), []
    with h5py.File(base.student_net, "r") as f:
        enc = json.loads(f.attrs["mskd_encoding"])
    for what, text in _encodings(enc):
        net = h5_edit(base.student_net, name(".net"), h5_attr("mskd_encoding", text))
        out = name.out()
        cases.append(Case(f"encoding {what}", ["profile", net, "--data", base.see,
                                               "--profile", "loihi1", "--limit", "2",
                                               "--out", out], str(net), [out]))
    for what, value in (("binary", np.void(b"\x00\xff\x10")), ("int", 5),
                        ("array", np.array([b"{}", b"{}"]))):
        net = h5_edit(base.student_net, name(".net"), h5_attr("mskd_encoding", value))
        out = name.out()
        cases.append(Case(f"encoding {what}", ["profile", net, "--data", base.see,
                                               "--profile", "loihi1", "--out", out],
                          str(net), [out]))
    return cases


# -- checkpoints ---------------------------------------------------------------------------

def _ckpt_meta_edits() -> list[tuple[str, object]]:
    def cfg(**kw):
        def edit(m):
            m["model_config"].update(kw)
        return edit

    def drop(key):
        def edit(m):
            del m[key]
        return edit

    def put(key, value):
        def edit(m):
            m[key] = value
        return edit

    return [
        ("metadata list", lambda m: [1, 2]), ("metadata null", lambda m: RawText("null")),
        ("metadata string", lambda m: "student"), ("metadata number", lambda m: 3),
        ("metadata not json", lambda m: RawText("{oops")),
        ("metadata deep", lambda m: RawText(deep_json(100000))),
        ("no model_config", drop("model_config")), ("no kind", drop("kind")),
        ("no format", drop("format")), ("format 2", put("format", 2)),
        ("format text", put("format", "1")), ("kind other", put("kind", "other")),
        ("kind list", put("kind", ["student"])), ("model_config list", put("model_config", [])),
        ("model_config null", put("model_config", None)),
        ("model_config text", put("model_config", "x")),
        ("options list", put("options", [1])), ("state text", put("state", "x")),
        ("optim_groups table", put("optim_groups", {})),
        ("hidden 1e7", cfg(hidden=[10**7])), ("classes 1e7", cfg(classes=10**7)),
        ("size 1e5", cfg(size=100000)), ("hidden 0", cfg(hidden=[0])),
        ("channels text", cfg(channels="abc")), ("input_gain text", cfg(input_gain="160")),
        ("input_gain 0", cfg(input_gain=0)), ("kernel 0", cfg(kernel=0)),
        ("steps_per_frame 1e9", cfg(steps_per_frame=10**9)),
        ("theta nan", cfg(theta=float("nan"))), ("unknown config key", cfg(wings=2)),
        ("weight_exps wrong length", cfg(weight_exps=[1])),
        ("weight_exps huge", cfg(weight_exps=[10**6, 0, 0])),
        ("vth_mants negative", cfg(vth_mants=[-1, 1, 1])),
        ("n_frames 0", cfg(n_frames=0)), ("size text", cfg(size="8")),
        ("hidden nested", cfg(hidden=[[6]])), ("classes float", cfg(classes=7.5)),
        ("classes 3 (shapes)", cfg(classes=3)),
    ]


def _ckpt_tensor_edits(raw: bytes) -> list[tuple[str, bytes]]:
    from fuzzing import st_split

    header, _ = st_split(raw)
    w0 = header["model.weights.0"]

    def relabel(key, **kw):
        def edit(h):
            h[key].update(kw)
        return edit

    nan, inf = np.float32(np.nan).tobytes(), np.float32(np.inf).tobytes()
    shape = w0["shape"]
    return [
        ("F32 relabelled I32", st_header_edit(raw, relabel("model.weights.0", dtype="I32"))),
        ("F32 relabelled F16", st_header_edit(raw, relabel("model.weights.0", dtype="F16"))),
        ("weight NaN", st_poke(raw, "model.weights.1", nan)),
        ("weight inf", st_poke(raw, "model.weights.2", inf)),
        ("shape permuted", st_header_edit(raw, relabel("model.weights.0",
                                                       shape=shape[::-1]))),
        ("shape too big", st_header_edit(raw, relabel("model.weights.0",
                                                      shape=[10**9, 10**9]))),
        ("offsets beyond data", st_header_edit(raw, relabel("model.weights.0",
                                                            data_offsets=[0, 10**12]))),
        ("offsets reversed", st_header_edit(raw, relabel(
            "model.weights.0", data_offsets=w0["data_offsets"][::-1]))),
        ("tensor dropped", st_header_edit(raw, lambda h: h.pop("model.weights.1"))),
        ("tensor renamed", st_header_edit(raw, lambda h: h.update(
            {"model.wings": h.pop("model.weights.1")}))),
        ("dtype bogus", st_header_edit(raw, relabel("model.weights.0", dtype="Q99"))),
        ("header length huge", (2**62).to_bytes(8, "little") + raw[8:]),
        ("header length 0", (0).to_bytes(8, "little") + raw[8:]),
        ("header not json", raw[:8] + b"\xff" * 16 + raw[24:]),
    ]


def checkpoint_cases(base: Base, work: Path) -> list[Case]:
    """Damaged checkpoints read by ``convert`` (student) and ``eval`` (teacher)."""
    name, cases = Namer(work, "checkpoint"), []
    raw = base.student.read_bytes()
    damaged = [(what, st_meta_edit(raw, fn)) for what, fn in _ckpt_meta_edits()]
    damaged += _ckpt_tensor_edits(raw)
    damaged += [(f"truncated at {cut}", raw[:cut]) for cut in
                (0, 5, 8, 40, len(raw) // 3, len(raw) - 4)]
    damaged += [("empty", b""), ("text", b"hello")]
    for what, data in damaged:
        ckpt = name(".safetensors")
        ckpt.write_bytes(data)
        out = name.out()
        cases.append(Case(f"checkpoint {what}", ["convert", ckpt, "--out", out / "s.net"],
                          str(ckpt), [out]))
    traw = base.teacher.read_bytes()
    for what, fn in _ckpt_meta_edits()[::3]:
        ckpt = name(".safetensors")
        ckpt.write_bytes(st_meta_edit(traw, fn))
        cases.append(Case(f"teacher checkpoint {what}", ["eval", ckpt, base.see],
                          str(ckpt)))
    folder = name(".safetensors")
    folder.mkdir()
    cases.append(Case("checkpoint is a folder", ["eval", folder, base.see], str(folder)))
    return cases


def _resume_edits(raw: bytes) -> list[tuple[str, bytes]]:
    from fuzzing import st_split

    def state(**kw):
        def edit(m):
            m["state"].update(kw)
        return edit

    def group(**kw):
        def edit(m):
            m["optim_groups"][0].update(kw)
        return edit

    header, _ = st_split(raw)
    optim = sorted(k for k in header if k.startswith("optim.") and "exp_avg" in k)

    def relabel(key, **kw):
        def edit(h):
            h[key].update(kw)
        return edit

    meta = [
        ("epoch 1e18", state(epoch=1e18)), ("epoch 10^18", state(epoch=10**18)),
        ("epoch text", state(epoch="x")), ("epoch -1", state(epoch=-1)),
        ("epoch true", state(epoch=True)), ("no epoch", lambda m: m["state"].pop("epoch")),
        ("history ints", state(history=[1])), ("history empty", state(history=[])),
        ("history text", state(history="x")),
        ("lr text", group(lr="fast")), ("betas text", group(betas="x")),
        ("betas three", group(betas=[0.9, 0.99, 0.1])), ("params out of range",
                                                          group(params=[0, 99])),
        ("weight_decay nan", group(weight_decay=float("nan"))),
        ("group key dropped", lambda m: m["optim_groups"][0].pop("eps")),
        ("groups empty", lambda m: m.update(optim_groups=[])),
        ("groups two", lambda m: m.update(optim_groups=m["optim_groups"] * 2)),
        ("option changed", lambda m: m["options"].update(lr=1.0)),
    ]
    out = [(what, st_meta_edit(raw, fn)) for what, fn in meta]
    exp = header[optim[0]]
    out += [
        ("exp_avg shape", st_header_edit(raw, relabel(optim[0], shape=exp["shape"][::-1]))),
        ("exp_avg dtype", st_header_edit(raw, relabel(optim[0], dtype="I32"))),
        ("exp_avg nan", st_poke(raw, optim[0], np.float32(np.nan).tobytes())),
        ("step tensor dropped", st_header_edit(raw, lambda h: h.pop("optim.0.step"))),
        ("optim index 9", st_header_edit(raw, lambda h: h.update(
            {"optim.9.exp_avg": h.pop(optim[0])}))),
        ("rng dtype", st_header_edit(raw, relabel("rng.torch", dtype="I32", shape=[
            header["rng.torch"]["shape"][0] // 4]))),
        ("rng dropped", st_header_edit(raw, lambda h: h.pop("rng.torch"))),
    ]
    return out


def resume_cases(base: Base, work: Path) -> list[Case]:
    """Damaged training state, read by ``train student --resume`` (nothing may change)."""
    name, cases = Namer(work, "resume"), []
    raw = base.student.read_bytes()
    for what, data in _resume_edits(raw):
        out = name.out()
        out.mkdir()
        (out / "checkpoint.safetensors").write_bytes(data)
        cases.append(Case(f"resume {what}", ["train", "student", base.see, "--out", out,
                                             "--resume", "--epochs", "2", *STUDENT_TRAIN],
                          str(out / "checkpoint.safetensors"), unchanged=[out]))
    return cases


# -- profiles ------------------------------------------------------------------------------

def _profile_texts(text: str) -> list[tuple[str, bytes]]:
    def sub(a, b, count=1):
        assert a in text, a
        return text.replace(a, b, count).encode()

    return [
        ("value inf", sub("value = 23.6", "value = inf")),
        ("value nan", sub("value = 23.6", "value = nan")),
        ("value -1", sub("value = 23.6", "value = -1")),
        ("value text", sub("value = 23.6", 'value = "x"')),
        ("value bool", sub("value = 23.6", "value = true")),
        ("value array", sub("value = 23.6", "value = [1]")),
        ("value table", sub("value = 23.6", "value = {a = 1}")),
        ("value date", sub("value = 23.6", "value = 2024-01-01")),
        ("unit wrong", sub('unit = "pJ"', 'unit = "nJ"')),
        ("unit number", sub('unit = "pJ"', "unit = 3")),
        ("source empty", sub('source = "', 'source = "" #')),
        ("limit 0 cores", sub("[limits.cores_per_chip]\nvalue = 128",
                              "[limits.cores_per_chip]\nvalue = 0")),
        ("limit inf", sub("[limits.neurons_per_core]\nvalue = 1024",
                          "[limits.neurons_per_core]\nvalue = inf")),
        ("limit fraction", sub("[limits.neurons_per_core]\nvalue = 1024",
                               "[limits.neurons_per_core]\nvalue = 10.5")),
        ("schema 2", sub("schema_version = 1", "schema_version = 2")),
        ("kind gpu", sub('kind = "neuromorphic"', 'kind = "gpu"')),
        ("kind ann", sub('kind = "neuromorphic"', 'kind = "ann"')),
        ("name number", sub('name = "loihi1"', "name = 3")),
        ("unknown top key", (text + "\nextra = 1\n").encode()),
        ("unknown section key", sub("[energy.synop]", "[energy.synopx]")),
        ("assumed text", sub("[energy.synop]\n", '[energy.synop]\nassumed = "yes"\n')),
        ("missing synop", sub("[energy.synop]", "[energy.nothing]")),
        ("deep nesting", deep_toml(100000)), ("binary", bytes(range(256)) * 4),
        ("utf-16", text.encode("utf-16")), ("latin-1", "name = 'é'\n".encode("latin-1")),
        ("empty", b""), ("syntax", b"[energy\n"), ("nul", text.encode()[:50] + b"\0"),
    ]


def profile_cases(base: Base, work: Path) -> list[Case]:
    """Damaged hardware profiles for ``profile --profile`` and ``--ann-profile``."""
    name, cases = Namer(work, "profile"), []
    text = base.profile.read_text()
    for what, data in _profile_texts(text):
        toml = name(".toml")
        toml.write_bytes(data)
        out = name.out()
        cases.append(Case(f"profile {what}", ["profile", base.net, "--input", base.x,
                                              "--profile", toml, "--out", out],
                          str(toml), [out]))
    for what, data in _profile_texts(text)[::5]:
        toml = name(".toml")
        toml.write_bytes(data)
        out = name.out()
        cases.append(Case(f"ann profile {what}", ["profile", base.net, "--input", base.x,
                                                  "--ann-profile", toml, "--out", out],
                          str(toml), [out]))
    folder = name(".toml")
    folder.mkdir()
    cases.append(Case("profile is a folder", ["profile", base.net, "--input", base.x,
                                              "--profile", folder, "--out", name.out()],
                      str(folder)))
    return cases


# -- --config ------------------------------------------------------------------------------

def _configs() -> list[tuple[str, bytes]]:
    return [
        ("unknown key", b"epochz = 3\n"), ("python name", b"as_json = true\n"),
        ("wrong type", b'batch-size = "many"\n'), ("list", b"batch-size = [1, 2]\n"),
        ("table", b"[batch-size]\na = 1\n"), ("date", b"batch-size = 2024-01-01\n"),
        ("negative", b"batch-size = -3\n"), ("nan", b"batch-size = nan\n"),
        ("bool for int", b"batch-size = true\n"),
        ("deep", deep_toml(100000)), ("binary", bytes(range(256))),
        ("utf-16", "batch-size = 2\n".encode("utf-16")), ("syntax", b"batch-size = \n"),
        ("twice", b"batch-size = 2\nbatch_size = 3\n"), ("nul", b"a\0 = 1\n"),
    ]


def config_cases(base: Base, work: Path) -> list[Case]:
    """Damaged ``--config`` files for commands that all take ``--batch-size``-like keys."""
    name, cases = Namer(work, "config"), []
    commands = {
        "train student": lambda out: ["train", "student", base.see, "--out", out,
                                      *STUDENT_TRAIN],
        "convert": lambda out: ["convert", base.student, "--out", out / "s.net"],
        "profile": lambda out: ["profile", base.net, "--input", base.x, "--out", out],
        "demo": lambda out: ["demo", "--out", out],
    }
    for cmd, argv in commands.items():
        for what, data in _configs():
            cfg = name(".toml")
            cfg.write_bytes(data)
            out = name.out()
            cases.append(Case(f"config {cmd} {what}", [*argv(out), "--config", cfg],
                              str(cfg), [out]))
    per_command = [
        ("deploy run", ["deploy", "run", base.net, "--input", base.x], b"steps = -3\n"),
        ("deploy run", ["deploy", "run", base.net, "--input", base.x], b'device = "tpu"\n'),
        ("deploy verify", ["deploy", "verify", base.net], b"samples = 0\n"),
        ("deploy verify", ["deploy", "verify", base.net], b"timeout = -1\n"),
        ("profile", ["profile", base.net, "--input", base.x], b"frame-ms = 0\n"),
        ("profile", ["profile", base.net, "--input", base.x], b"frame-ms = -33\n"),
        ("profile", ["profile", base.net, "--input", base.x], b"frame-ms = nan\n"),
        ("profile", ["profile", base.net, "--input", base.x], b"steps-per-frame = 0\n"),
        ("profile", ["profile", base.net, "--input", base.x], b"steps-per-frame = -4\n"),
        ("profile", ["profile", base.net, "--input", base.x], b'hw = "loihi1"\n'),
        ("profile", ["profile", base.net, "--input", base.x], b'ann = "ann-45nm"\n'),
        ("profile", ["profile", base.net, "--input", base.x], b'inputs = "x.npy"\n'),
        ("profile", ["profile", base.net, "--input", base.x], b"skip-zero = true\n"),
        ("train", ["train", "student", base.see], b"hidden = 0\n"),
        ("train", ["train", "student", base.see], b"threads = -2\n"),
        ("eval", ["eval", base.student, base.see], b"threads = -1\n"),
        ("eval", ["eval", base.student, base.see], b"as_json = true\n"),
        ("eval", ["eval", base.student, base.see], b"views = 0\n"),
        ("convert", ["convert", base.student], b'eval_data = "x"\n'),
        ("data info", ["data", "info", base.see], b'split_file = "x.json"\n'),
        ("data synth", ["data", "synth"], b"subjects = 1\n"),
        ("data synth", ["data", "synth"], b"workers = -1\n"),
        ("data events", ["data", "events", base.see], b"fps = 0\n"),
    ]
    for cmd, argv, data in per_command:
        cfg = name(".toml")
        cfg.write_bytes(data)
        out = name.out()
        extra = [] if cmd in ("eval", "data info") else ["--out", out / "o.npz"] \
            if cmd == "deploy run" else [] if cmd == "deploy verify" else ["--out", out]
        cases.append(Case(f"config {cmd} {data.decode().strip()}", [*argv, *extra,
                                                                    "--config", cfg],
                          str(cfg), [out]))
    folder = name(".toml")
    folder.mkdir()
    cases.append(Case("config is a folder", ["deploy", "run", base.net, "--input", base.x,
                                             "--out", name.out() / "o.npz", "--config",
                                             folder], str(folder)))
    return cases


# -- .npy inputs ---------------------------------------------------------------------------

def _inputs(x: np.ndarray) -> list[tuple[str, bytes]]:
    body = x.astype("<i8").tobytes()
    shape = str(x.shape)
    return [
        ("empty", b""), ("text", b"1 2 3\n"), ("npz", _npz(x)),
        ("pickle", npy_bytes(np.array([{"a": 1}], dtype=object))),
        ("strings", npy_bytes(np.array(["1", "2"]))), ("bytes", npy_bytes(np.array([b"1"]))),
        ("structured", npy_bytes(np.zeros(3, dtype=[("a", "i4"), ("b", "f4")]))),
        ("datetime", npy_bytes(np.array(["2024-01-01"], dtype="datetime64[D]"))),
        ("timedelta", npy_bytes(np.array([1], dtype="timedelta64[s]"))),
        ("complex", npy_bytes(x.astype(np.complex64) + 1j)),
        ("uint64 huge", npy_bytes(np.full(x.shape, 2**64 - 1, dtype=np.uint64))),
        ("header 1e12", npy_with_header("<i8", "(1000000, 1000000)", body)),
        ("header negative", npy_with_header("<i8", "(-2, 5, 1, 8, 8)", body)),
        ("header not a tuple", npy_with_header("<i8", "'abc'", body)),
        ("header bad descr", npy_with_header("<q9", shape, body)),
        ("header object descr", npy_with_header("|O", shape, body)),
        ("header garbage", b"\x93NUMPY\x01\x00\x10\x00" + b"\xff" * 16 + body),
        ("header length huge", b"\x93NUMPY\x01\x00\xff\xff" + b" " * 100),
        ("version 9", b"\x93NUMPY\x09\x00" + npy_bytes(x)[8:]),
        ("data short", npy_with_header("<i8", shape, body[:-8])),
        ("data long", npy_with_header("<i8", shape, body + b"\0" * 8)),
        ("wrong shape", npy_bytes(np.zeros((2, 5, 3, 8, 8), np.int64))),
        ("0-d", npy_bytes(np.array(5))), ("no samples", npy_bytes(np.zeros((0, 5, 1, 8, 8)))),
        ("nan", npy_bytes(np.full(x.shape, np.nan))),
        ("inf", npy_bytes(np.full(x.shape, np.inf))),
        ("fraction", npy_bytes(x + 0.5)),
        ("out of range", npy_bytes(x * 0 + 10**6)),
        ("int64 extremes", npy_bytes(x * 0 + np.iinfo(np.int64).min)),
        ("float huge", npy_bytes(x * 0 + 1e300)),
    ]


def _npz(x: np.ndarray) -> bytes:
    import io

    buf = io.BytesIO()
    np.savez(buf, x=x)
    return buf.getvalue()


def input_cases(base: Base, work: Path) -> list[Case]:
    """Damaged ``.npy`` inputs for ``deploy run`` (and ``profile --input`` for some)."""
    name, cases = Namer(work, "input"), []
    x = np.load(base.x)
    for what, data in _inputs(x):
        path = name(".npy")
        path.write_bytes(data)
        out = name.out()
        cases.append(Case(f"input {what}", ["deploy", "run", base.net, "--input", path,
                                            "--out", out / "o.npz"], str(path), [out]))
    for what, data in _inputs(x)[::3]:
        path = name(".npy")
        path.write_bytes(data)
        out = name.out()
        cases.append(Case(f"profile input {what}", ["profile", base.net, "--input", path,
                                                    "--out", out], str(path), [out]))
    folder = name(".npy")
    folder.mkdir()
    cases.append(Case("input is a folder", ["deploy", "run", base.net, "--input", folder,
                                            "--out", name.out() / "o.npz"], str(folder)))
    return cases


def valid_input_variants(base: Base, work: Path) -> list[tuple[str, Path]]:
    """Inputs that are fine and must run: big-endian, Fortran order, bool/uint8 spikes."""
    name = Namer(work, "valid-input")
    x = np.load(base.x)
    out = []
    for what, a in (("big-endian", x.astype(">i4")), ("fortran", np.asfortranarray(x)),
                    ("uint16", x.astype(np.uint16)), ("float integral", x.astype(float))):
        p = name(".npy")
        np.save(p, a)
        out.append((what, p))
    return out


# -- datasets ------------------------------------------------------------------------------

def _test_sequence(see: Path) -> tuple[str, Path]:
    key = json.loads((see / "split.json").read_text())["test"][0]
    return key, see / "frame" / key


def dataset_cases(base: Base, work: Path) -> list[Case]:
    """Damaged SEE trees: split files, images, folders; read by ``eval`` and ``data info``."""
    name, cases = Namer(work, "dataset"), []
    split = json.loads((base.see / "split.json").read_text())

    def tree(edit) -> tuple[Path, Path]:
        root = name("")
        shutil.copytree(base.see, root)
        return root, edit(root)

    def split_text(text):
        def edit(root):
            (root / "split.json").write_text(text) if isinstance(text, str) else \
                (root / "split.json").write_bytes(text)
            return root / "split.json"
        return edit

    def image(data: bytes, modality="frame"):
        def edit(root):
            key, _ = _test_sequence(root)
            f = sorted((root / modality / key).iterdir())[0]
            f.write_bytes(data)
            return f
        return edit

    jpg = sorted((_test_sequence(base.see)[1]).iterdir())[0].read_bytes()
    splits = [("split not json", "{oops"), ("split list", "[1]"), ("split null", "null"),
              ("split no test", json.dumps({"train": split["train"]})),
              ("split empty test", json.dumps({"train": split["train"], "test": []})),
              ("split entry int", json.dumps({**split, "test": [5]})),
              ("split entry absent", json.dumps({**split, "test": ["happiness/nope"]})),
              ("split entry no slash", json.dumps({**split, "test": ["happiness"]})),
              ("split in both", json.dumps({**split, "test": split["test"] + split["train"][:1]})),
              ("split deep", deep_json(100000)), ("split binary", bytes(range(256))),
              ("split utf-16", json.dumps(split).encode("utf-16"))]
    edits = [(what, split_text(text)) for what, text in splits]
    edits += [("jpg empty", image(b"")), ("jpg truncated", image(jpg[:len(jpg) // 2])),
              ("jpg text", image(b"hello")), ("jpg bomb 60000^2", image(jpeg_bomb(60000, 60000))),
              ("jpg bomb 5000^2", image(jpeg_bomb(5000, 5000))),
              ("event jpg truncated", image(jpg[:100], "event"))]

    def extra_event(root):
        key, _ = _test_sequence(root)
        d = root / "event" / key
        shutil.copyfile(sorted(d.iterdir())[0], d / "99999.jpg")
        return d

    def bad_name(root):
        key, d = _test_sequence(root)
        d.rename(d.parent / "badname")
        return d.parent / "badname"

    def no_events(root):
        shutil.rmtree(root / "event")
        return root / "event"

    def unknown_emotion(root):
        (root / "frame" / "boredom").mkdir()
        return root / "frame" / "boredom"

    def empty_sequence(root):
        key, d = _test_sequence(root)
        for f in d.iterdir():
            f.unlink()
        return d

    edits += [("extra event frame", extra_event), ("bad sequence name", bad_name),
              ("no event folder", no_events), ("unknown emotion", unknown_emotion),
              ("empty sequence", empty_sequence)]
    structure = {"extra event frame", "bad sequence name", "no event folder",
                 "unknown emotion", "empty sequence"}
    for what, edit in edits:
        root, named = tree(edit)
        names = str(root) if what in structure else str(named)  # a path in the tree
        cases.append(Case(f"dataset {what} (eval)", ["eval", base.student, root], names))
        if not what.startswith(("jpg", "event jpg")):
            cases.append(Case(f"dataset {what} (info)", ["data", "info", root], names,
                              must_fail=what not in ("split empty test",)))
    missing = name("")
    cases.append(Case("dataset missing", ["eval", base.student, missing], str(missing)))
    return cases


# -- robust families: random bit flips and cuts --------------------------------------------

def robust_cases(base: Base, work: Path, seed: int, n: int) -> list[Case]:
    """``n`` random bit-flip or truncation damages per file kind (may stay valid)."""
    rng = np.random.default_rng(seed)
    name, cases = Namer(work, f"robust-{seed}"), []
    kinds = [
        (base.net, ".net", lambda p, o: ["deploy", "run", p, "--input", base.x, "--out",
                                         o / "o.npz"]),
        (base.spk_net, ".net", lambda p, o: ["deploy", "run", p, "--input", base.spk_x,
                                             "--out", o / "o.npz"]),
        (base.student, ".safetensors", lambda p, o: ["convert", p, "--out", o / "s.net"]),
        (base.profile, ".toml", lambda p, o: ["profile", base.net, "--input", base.x,
                                              "--profile", p, "--out", o]),
        (base.x, ".npy", lambda p, o: ["deploy", "run", base.net, "--input", p, "--out",
                                       o / "o.npz"]),
        (base.student_net, ".net", lambda p, o: ["profile", p, "--data", base.see,
                                                 "--limit", "2", "--out", o]),
        (base.nir, ".nir", lambda p, o: ["convert", p, "--out", o / "n.net"]),
    ]
    for src, suffix, argv in kinds:
        raw = src.read_bytes()
        for i in range(n):
            data = truncate(raw, rng) if i % 4 == 3 else \
                flip_bits(raw, rng, int(rng.integers(1, 9)))
            path = name(suffix)
            path.write_bytes(data)
            out = name.out()
            cases.append(Case(f"{src.name} {'cut' if i % 4 == 3 else 'bit flips'} #{i}",
                              argv(path, out), str(path), [out], must_fail=False))
    return cases

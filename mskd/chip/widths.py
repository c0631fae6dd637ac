"""Where a run left the chip's widths, which Lava's simulation does not enforce.

Lava 0.10 computes sigma-delta registers and payloads in numpy int32; Loihi 2 holds them in
24-bit registers and carries graded payloads in messages of ``messageBits`` bits (netx's
SDNN default 16). Bit-exactness with Lava therefore says nothing about a value that needs
more bits: this module finds them, per layer, so reports can say where the chip would
differ (a CUBA-LIF layer's u and v are wrapped and saturated to 24 bits by Lava itself).

>>> import torch
>>> from mskd.net.record import LayerInfo, Record
>>> info = (LayerInfo("1:dense", "dense", (2,), "sigma_delta"),)
>>> rec = Record(info, {"1:dense": torch.tensor([[[5, 40000]]], dtype=torch.int32)},
...              {"sigma": {"1:dense": torch.tensor([[[1 << 25, 0]]], dtype=torch.int32)}})
>>> [(r["layer"], r["what"], r["bits_needed"], r["limit_bits"]) for r in width_report(rec)]
[('1:dense', 'payload', 17, 16), ('1:dense', 'sigma', 27, 24)]
"""

from __future__ import annotations

import torch

from mskd.loihi.sdn import MESSAGE_BITS, REG_BITS


def _bits(max_abs: int) -> int:
    """Signed bits needed for ``|x| <= max_abs``."""
    return max_abs.bit_length() + 1


def width_report(record, message_bits: int = MESSAGE_BITS) -> list[dict]:
    """One row per (layer, payload or register) whose values need more bits than the chip
    has: ``{layer, what, max_abs, bits_needed, limit_bits, share}`` (share of entries
    beyond the limit)."""
    rows = []
    for info in record.layers:
        if not info.graded:
            continue
        tables = [("payload", record.spikes, message_bits)]
        if info.model != "sigma":  # a Sigma's payload is its sigma: checked as a register
            tables += [(r, record.registers.get(r, {}), REG_BITS) for r in info.registers]
        else:
            tables = [("sigma", record.spikes, REG_BITS)]
        for what, table, limit in tables:
            if info.name not in table:
                continue
            t = table[info.name].to(torch.int64)
            peak = int(t.abs().max()) if t.numel() else 0
            if _bits(peak) > limit:
                over = (t >= 1 << (limit - 1)) | (t < -(1 << (limit - 1)))
                rows.append({"layer": info.name, "what": what, "max_abs": peak,
                             "bits_needed": _bits(peak), "limit_bits": limit,
                             "share": float(over.double().mean())})
    return rows


def width_note(record) -> str:
    """One line for a report or verdict, empty when everything fits."""
    rows = width_report(record)
    if not rows:
        return ""
    worst = ", ".join(f"{r['layer']} {r['what']} needs {r['bits_needed']} bits "
                      f"(> {r['limit_bits']})" for r in rows[:3])
    more = f" and {len(rows) - 3} more" if len(rows) > 3 else ""
    return (f"note: Lava computes in int32 but Loihi 2 has 24-bit registers and "
            f"{MESSAGE_BITS}-bit SDNN messages: {worst}{more}; the chip would differ there")

"""What Lava's Loihi 2 compiler printed for Intel's PilotNet networks, as a fixture.

Source: lava-dl, ``tutorials/lava/lib/dl/netx/pilotnet_snn/benchmark.ipynb`` (cell 15) and
``pilotnet_sdnn/benchmark.ipynb`` (cell 13), commit b9e369172b46bb0aa5494ed91613c1a5338aa734
(2023-01-10); the same text in every version of the notebooks. Quoted verbatim (rows are
per core, one row per layer, output layer first).
"""

from __future__ import annotations

LIF_TABLE = """\
Violation core_id=3 reg_name='SynMem' allocation=61440 self.cost_db.registers[reg_name]=12000
Final max_ratio=6, Violation core_id=3 reg_name='SynMem' allocation=61440 self.cost_db.registers[reg_name]=12000
Final max_ratio=6, Violation core_id=3 reg_name='SynMem' allocation=61440 self.cost_db.registers[reg_name]=12000
Final max_ratio=6, Violation core_id=3 reg_name='SynMem' allocation=12800 self.cost_db.registers[reg_name]=12000
Final max_ratio=1, Per core distribution:
----------------------------------------------------------------
| AxonIn |NeuronGr| Neurons|Synapses| AxonMap| AxonMem|  Cores |
|--------------------------------------------------------------|
|      10|       1|       1|      10|       1|       0|       1|
|      50|       1|      10|     150|      10|       0|       1|
|     100|       1|      50|    1300|      50|       0|       1|
|    2560|       1|       8|    7253|       8|       0|      12|
|       1|       1|    2048|    2880|    1280|       0|       2|Conv(16, 2, 64)
|       1|       1|    2048|    2160|      29|       9|       3|Conv(8, 4, 64)
|       2|       1|    2688|    1620|     112|      46|       3|Conv(8, 7, 48)
|       2|       1|    2160|     864|     113|      32|      13|Conv(4, 15, 36)
|       2|       1|    3072|      81|     253|      93|      25|Conv(4, 32, 24)
|       1|       1|    3168|       0|    1015|     731|      13|Conv(16, 66, 3)
|--------------------------------------------------------------|
| Total                                               |      74|
----------------------------------------------------------------
"""  # noqa: E501 - quoted as printed

SDNN_TABLE = """\
Violation core_id=3 reg_name='SynMem' allocation=66560 self.cost_db.registers[reg_name]=12000
Final max_ratio=6, Violation core_id=3 reg_name='SynMem' allocation=66560 self.cost_db.registers[reg_name]=12000
Final max_ratio=6, Violation core_id=3 reg_name='SynMem' allocation=66560 self.cost_db.registers[reg_name]=12000
Final max_ratio=6, Violation core_id=3 reg_name='SynMem' allocation=12800 self.cost_db.registers[reg_name]=12000
Final max_ratio=1, Per core distribution:
----------------------------------------------------------------
| AxonIn |NeuronGr| Neurons|Synapses| AxonMap| AxonMem|  Cores |
|--------------------------------------------------------------|
|      10|       1|       1|      10|       1|       0|       1|
|      50|       1|      10|     150|      10|       0|       1|
|     100|       1|      50|    1500|      50|       0|       1|
|    2560|       1|       8|    7253|       8|       0|      12|
|       1|       1|    2048|    2880|    1280|       0|       2|Conv(16, 2, 64)
|       1|       1|    2048|    2592|      29|       9|       3|Conv(8, 4, 64)
|       2|       1|    2688|    1620|     112|      46|       3|Conv(8, 7, 48)
|       2|       1|    2160|     864|     113|      32|      13|Conv(4, 15, 36)
|       2|       1|    3072|      81|     253|      93|      25|Conv(4, 32, 24)
|--------------------------------------------------------------|
| Total                                               |      61|
----------------------------------------------------------------
"""  # noqa: E501 - quoted as printed

# PilotNet's layers as the lava-dl network files hold them, input first: (C, H, W) maps,
# conv kernel/stride/padding (h, w), dense widths; and each dense layer's signed weight
# bits (mskd.chip.synapses.weight_bits of the file's weights: LIF network.net blob bd720b9,
# SDNN network.net blob 532f702; the weights themselves are not shipped here).
INPUT = (3, 66, 200)
CONVS = [  # out channels, kernel, stride (h, w), padding (h, w), output (C, H, W)
    (24, 3, (2, 2), (0, 0), (24, 32, 99)),
    (36, 3, (2, 2), (0, 0), (36, 15, 49)),
    (48, 3, (2, 2), (0, 0), (48, 7, 24)),
    (64, 3, (2, 1), (1, 0), (64, 4, 22)),
    (64, 3, (1, 1), (0, 0), (64, 2, 20)),
]
DENSE = [100, 50, 10, 1]
DENSE_WEIGHT_BITS = {"lif": [4, 5, 6, 7], "sdnn": [5, 7, 6, 5]}


def parse(table: str) -> dict:
    """``{"allocations": [...], "rows": [dict per layer, input first], "total": int}``."""
    allocations = [int(part.split("allocation=")[1].split()[0])
                   for part in table.split("Violation")[1:]]
    rows = []
    for line in table.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 7 and cells[0].isdigit():
            keys = ("axon_in", "neuron_groups", "neurons", "synapses", "axon_map",
                    "axon_mem", "cores")
            row = dict(zip(keys, map(int, cells[:7]), strict=True))
            row["tile"] = cells[7] if len(cells) > 7 else None
            rows.append(row)
    total = int(table.split("| Total")[1].split("|")[1])
    return {"allocations": allocations, "rows": rows[::-1], "total": total}

"""mskd.train: the multimodal teacher, the fixed-point spiking student and MSKD training.

Modules (one concept each):

- :mod:`~mskd.train.teacher` SEEN-style ANN+SNN teacher (norse LIF box cells).
- :mod:`~mskd.train.lif_config`, :mod:`~mskd.train.student_lif` the Loihi-exact student
  (``forward`` float64-STE training, ``forward_fixed`` int64, ``quantized()``);
  :mod:`~mskd.train.quant` 8-bit weights and the surrogate spike;
  :mod:`~mskd.train.quantized` the typed description the converter reads;
  :mod:`~mskd.train.calibrate_lif` threshold calibration to a target spike rate.
- :mod:`~mskd.train.sdnn_config`, :mod:`~mskd.train.student_sdnn` the Loihi 2 sigma-delta
  student reading every frame (the same arithmetic as :mod:`mskd.loihi.sdn`);
  :mod:`~mskd.train.calibrate_sdnn` its delta thresholds;
  :mod:`~mskd.train.student_geometry` the conv stack both students share.
- :mod:`~mskd.train.losses` L_cls, the distillation terms (HCKD, TCKD, plain and
  standardised KD, per-clip and per-pair hit KD) and their mix (a name -> function registry).
- :mod:`~mskd.train.teacher_cache` teacher outputs computed once per (sequence, start).
- :mod:`~mskd.train.options`, :mod:`~mskd.train.loop`, :mod:`~mskd.train.checkpoint`,
  :mod:`~mskd.train.distributed`, :mod:`~mskd.train.batching`, :mod:`~mskd.train.progress`
  training with exact resume and DDP.
- :mod:`~mskd.train.evaluate` WAR/UAR over K views; :mod:`~mskd.train.costs` costs;
  :mod:`~mskd.train.report` and :mod:`~mskd.train.cli` the command line.
"""

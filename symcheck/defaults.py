"""The default of every setting that more than one function or command takes: one number, one home.

Distances are in Å; the other settings have their own names and units (DESIGN.md, "Names with one
meaning"). numpy-free and import-free, so that the command line can show the defaults in --help
without loading the library.
"""

#: Distance tolerance (Å) of every symmetry decision: point groups, space groups (spglib's symprec),
#: symmetrize, scan, modes, and the CLI's --tol.
DEFAULT_TOL = 0.01

#: How far an operation may change per-point input features (in the features' own units, not Å) and still
#: count as a symmetry: ``point_group(feature_tol=)``, and the feature check of space groups.
FEATURE_ATOL = 0.01

#: How far (Å) the near-symmetry check of ``analyze`` looks for a higher group that the target breaks.
NEAR_TOL = 0.1

#: Highest L of the candidate symmetry-breaking features (``analyze(feature_lmax=)``, --feature-lmax).
FEATURE_LMAX = 4

#: Highest L of the tutorial's spherical-signal encoding of a displacement (``signal_lmax=``, --signal-lmax).
SIGNAL_LMAX = 5

#: An operation keeps the target when no entry changes by more than this fraction of the target's
#: largest entry (``analyze(target_rtol=)``, --target-rtol); relative, so without units.
TARGET_RTOL = 1e-3

#: Displacements (Å) no larger than this are rounding, not a distortion: the same structure written
#: by two programs differs by ~1e-15 Å, and a target that small keeps the input's whole group.
ROUNDING_DISPLACEMENT = 1e-9

#: ``scan`` flags a label when ‖y − P_G y‖ exceeds this fraction of ‖y‖ (``label_rtol=``, --label-rtol);
#: relative, so without units.
LABEL_RTOL = 0.01

#: Frames per chunk of ``scan`` (its unit of work and of checkpoints; ``chunk_size=``, --chunk-size).
SCAN_CHUNK_SIZE = 64

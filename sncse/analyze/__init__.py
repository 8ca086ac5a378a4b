"""Analyses of trained models (SNCSE, Wang et al., 2022, Section 5): rank-based error analysis
(Eq. 10-11) with heuristic tags, soft-negative similarity (Figure 4), hyperparameter sweeps (Figure 3)."""

"""Figures of fitted estimators, in scikit-learn's Display style."""

__all__ = []

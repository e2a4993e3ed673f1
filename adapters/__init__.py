"""Backbone feature extraction and end-to-end fine-tuning (as ``ncestimators.adapters``)."""

# SPDX-License-Identifier: BSD-3-Clause

__all__ = []

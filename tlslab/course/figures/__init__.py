"""Figures for the tlslab notebooks: plain functions returning matplotlib Figures, drawn from tlslab data."""

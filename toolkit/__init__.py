"""Multimedia forensics toolkit: analysis functions, no UI.

Sub-packages: ``video`` (I/O, frame and macroblock types), ``synth`` (forgery
generator), ``metrics``, ``weights`` (model registry), and one package per
method (``vpf``, ``focal``, ``residual``, ``fsvm``, ``geo``).
"""

__version__ = "0.1.0"

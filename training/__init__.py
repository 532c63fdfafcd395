"""Build-time code for saraban's models: fonts, synthetic training data, training and evaluation.

Needs the `train` extra (torch) and the fonts from `make fonts`; nothing here runs in the pipeline.
"""

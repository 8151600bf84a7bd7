"""Task metrics that Keras lacks, on well-kept libraries where they exist.

One module per family (detection, text, tracking, ...); each function is
re-exported here.
"""

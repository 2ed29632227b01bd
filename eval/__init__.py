"""Evaluation harness: score summaries against references, side by side with published systems.

`python -m eval run ...` summarizes a data set with the service's engines, the Lead-K
baseline or a running service and scores them, together with the published outputs
stored in the data file, by the same code on the same articles.
`python -m eval compare DIR1 DIR2` tests whether two runs really differ.
"""

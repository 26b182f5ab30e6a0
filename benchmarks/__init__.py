"""The benchmark suite (benchmarks/suite.py, `make bench`) and its workloads."""

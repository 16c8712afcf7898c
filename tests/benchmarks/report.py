"""Table, markdown and chart of the benchmark results."""


def write(results, directory):
    print(results)

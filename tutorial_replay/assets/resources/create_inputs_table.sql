CREATE TABLE `{project}.{dataset}.{table}` (tensor ARRAY<FLOAT64>)

CREATE TABLE `{project}.{dataset}.{table}` (time DATETIME, in_tensor ARRAY<FLOAT64>, out_variable ARRAY<FLOAT64>, check_failures INT64)

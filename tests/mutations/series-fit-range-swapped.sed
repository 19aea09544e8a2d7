# A series' fit range is written the wrong way round: *_fit_nfe_min holds the largest NFE, *_fit_nfe_max the smallest.
# file: src/io/results_file.cpp
# kills: io | io: every series attribute and dataset reads back as written*
s|"_fit_nfe_min", f\.valid ? nfe\[f\.first\]|"_fit_nfe_min", f.valid ? nfe[f.last]|
s|"_fit_nfe_max", f\.valid ? nfe\[f\.last\]|"_fit_nfe_max", f.valid ? nfe[f.first]|

"""The git edge: a temporary clone (`workspace`), credentials that never leak (`credentials`), commit
identities (`identity`), the reading of `git push --porcelain` (`push_result`) and of git's error
text (`failures`).

GitPython is imported only by `updater.git.workspace`; everything else here is plain data and parsing.
"""

"""What only this repository's tests share: the authorization table's cast, the task
registry of test handlers, the schemathesis runner. The general harness is
`studypath.testing`."""

package archive

// File is one file of an archive, a workspace or a submission, addressed by
// a clean, slash-separated, relative path. grader.File is this type.
type File struct {
	Path string
	Data []byte
	// Exec marks the file executable.
	Exec bool
}

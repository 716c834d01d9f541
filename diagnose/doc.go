// Package diagnose is Pubdoc's engine: it reads a CI log and names why a package publish
// failed, with the lines that prove it.
//
// Data moves one way, with no network and no globals:
//
//	reader → scanLines   keep trigger lines (Aho–Corasick over raw bytes) and the log's tail,
//	                     so memory is bounded whatever the log's size
//	       → normalize   timestamps, ANSI, ##[group] markers, gh/GitLab prefixes, npm debug
//	                     logs and Slack paste damage removed; secrets redacted; line numbers kept
//	       → facts       npm/Node/tool versions (exact, bounded or inferred), GITHUB_TOKEN
//	                     permissions, runner, publish tool, registry, package, HTTP status …
//	       → rules       every knowledge rule's anchors, then its fact conditions
//	       → rank        differential: raises and lowers with reasons, rules of one symptom
//	                     family cap each other, checks that would separate the rest
//	       → Result      verdict, diagnoses, facts, next checks (JSON contract) and renderers
//
// The knowledge it applies is data (package knowledge); this package holds only the
// mechanism and the few conditions YAML cannot express (checks.go).
//
// The scanner's two automata (the triggers and the anchors' keys) are built from that data
// by `pubdoc kb compile` into automata_gen.bin, which an engine of the same knowledge base
// reads in place (automata.go); any other builds its own. A big mapped file can be
// scanned with them before its engine exists (PrescanBytes), and the engine takes the
// scan over when it scans alike.
package diagnose

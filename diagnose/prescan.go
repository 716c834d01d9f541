package diagnose

// A big log's scan needs only the triggers, which automata_gen.bin holds built, so it need
// not wait for the knowledge base and the engine (~3 ms, most of the wait before a 100 MB
// log's scan): the CLI starts it on the mapped file while they load on the other core, and
// the engine takes the scan over when it was made with its own triggers and settings. An
// engine whose triggers differ (a rule edited without make kb) or whose settings do (its
// Options) scans again, so a prescan never changes an answer.

// Prescan is a log's scan made before its engine, with the prebuilt triggers.
type Prescan struct {
	triggers *triggerSet
	settings scanSettings
	raw      []rawLine
	stats    ScanStats
	err      error
}

// PrescanBytes scans data, a log in memory (a mapped file), with the prebuilt triggers and
// an engine's default settings. It returns nil when the binary holds no prebuilt automata.
func PrescanBytes(data []byte) *Prescan {
	pre := embeddedAutomata()
	if pre == nil {
		return nil
	}
	ts := pre.triggers
	cfg := &scanConfig{triggers: func() *triggerSet { return ts }, scanSettings: defaultScanSettings}
	p := &Prescan{triggers: ts, settings: cfg.scanSettings}
	p.raw, p.stats, p.err = scanBytes(data, cfg)
	return p
}

// DiagnosePrescanned diagnoses data, the log p scanned: from p's lines when p was made as
// this engine scans, else by scanning data again. It calls release, when not nil, once it
// no longer reads data (a scan copies the lines it keeps), so a caller can unmap a file
// while the lines are analyzed.
func (e *Engine) DiagnosePrescanned(p *Prescan, data []byte, release func()) (*Result, error) {
	var (
		raw        []rawLine
		stats      ScanStats
		err        error
		prescanned = e.scansLike(p)
	)
	if prescanned {
		raw, stats, err = p.raw, p.stats, p.err
	} else {
		raw, stats, err = scanLines(FromBytes(data), e.scan)
	}
	if release != nil {
		release()
	}
	if err != nil {
		return nil, err
	}
	res, err := e.diagnoseScanned(raw, stats, nil)
	if err == nil {
		e.log.Debug("diagnosed", "verdict", res.Verdict, "lines", res.Scanned.Lines, "kept", res.Scanned.Kept, "candidates", len(res.Diagnoses), "prescanned", prescanned)
	}
	return res, err
}

// scansLike reports whether this engine scans as p was scanned: the same triggers (the
// prebuilt ones) and the same settings.
func (e *Engine) scansLike(p *Prescan) bool {
	return p != nil && e.scan.scanSettings == p.settings && e.scan.triggers() == p.triggers
}

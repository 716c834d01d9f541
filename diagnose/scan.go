package diagnose

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"unsafe"
)

// rawLine is one physical line of the input that the scanner kept, with its 1-based number.
type rawLine struct {
	n    int
	text string
	// end is the number of the last physical line when unwrapColumns joined several; 0
	// means n.
	end int
}

// scanConfig tells the scanner which lines are worth keeping. A log of any size is read in
// fixed chunks: every line of the last tailBytes is kept (small inputs are therefore kept
// whole), and before that only the lines holding a trigger literal, with a little context.
// Memory is bounded by tailBytes and the caps on kept lines, never by the input's size.
type scanConfig struct {
	// triggers builds the trigger automaton on first need: an input that fits in the tail
	// is kept whole and never needs it.
	triggers func() *triggerSet
	scanSettings
}

// scanSettings are the scanner's sizes: with the triggers, all a scan depends on.
type scanSettings struct {
	before       int // context lines kept before every hit
	afterDefault int // context lines kept after every hit
	chunkBytes   int
	tailBytes    int
	maxLineBytes int
	headKeep     int // the first headKeep kept lines are never dropped (set-up facts live there)
	recentKeep   int // after that, only the most recent recentKeep kept lines stay
}

// triggerSet is the scanner's triggers, the lines to keep after each, and their automaton.
type triggerSet struct {
	patterns []string
	after    []int // per trigger: lines to keep after a hit
	m        *matcher
}

// ScanStats says how much was read and kept.
type ScanStats struct {
	Bytes     int64 `json:"bytes"`
	Lines     int   `json:"lines"`
	Kept      int   `json:"kept_lines"`
	Truncated int   `json:"truncated_lines,omitempty"`
	Dropped   int   `json:"dropped_lines,omitempty"`
	// Blank is true when the input held nothing but whitespace.
	Blank bool `json:"-"`
}

type lineScanner struct {
	cfg       *scanConfig
	head      []rawLine
	ring      []rawLine
	ringNext  int
	ringFull  bool
	lastKept  int
	pending   int // after-context lines still owed from the previous chunk
	tail      []byte
	tailStart int // number of the first line in tail (set by finish)
	stats     ScanStats
	lineNo    int // number of the line starting at the next region's first byte
	sawText   bool
	// whole is true when the first read reached the end: the input is one region.
	whole bool
	// inPlace is true when regions are the caller's memory (scanBytes): a fault reading
	// them is handed from findHits' goroutine to scanBytes, and the tail is a view of data
	// rather than a copy.
	inPlace bool
	data    []byte
	hits    []acHit
	hits2   []acHit
	// newlines is the number of lines of the region findHits was last given.
	newlines int
	scratch  [2][streams][]acHit
}

// errBinary is returned for input that is not text.
var errBinary = errors.New("input is binary, not a text log")

// checkText refuses input whose first 8 KiB hold a NUL byte: it is not a text log.
func checkText(head []byte) error {
	if i := bytes.IndexByte(head[:min(len(head), 8192)], 0); i >= 0 {
		return fmt.Errorf("%w (NUL byte at offset %d)", errBinary, i)
	}
	return nil
}

func scanLines(r io.Reader, cfg *scanConfig) ([]rawLine, ScanStats, error) {
	if b, ok := r.(*byteLog); ok {
		return scanBytes(b.rest(), cfg)
	}
	s := &lineScanner{cfg: cfg, lineNo: 1}
	// A paste is a few hundred bytes: the read buffer grows to a chunk only when the input
	// is longer than a first small read (a megabyte of fresh memory was a tenth of a
	// paste's diagnosis). The regions are those of a chunk-sized buffer all the same.
	buf := make([]byte, min(cfg.chunkBytes, firstReadBytes))
	filled := 0
	first := true
	for {
		n, err := io.ReadFull(r, buf[filled:])
		filled += n
		s.stats.Bytes += int64(n)
		eof := errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
		if err != nil && !eof {
			return nil, s.stats, fmt.Errorf("reading log: %w", err)
		}
		if first && filled > 0 {
			first = false
			if err := checkText(buf[:filled]); err != nil {
				return nil, s.stats, err
			}
		}
		if !eof && len(buf) < cfg.chunkBytes {
			buf = append(buf, make([]byte, cfg.chunkBytes-len(buf))...)
			continue
		}
		if eof {
			s.whole = s.stats.Bytes == int64(filled)
			if filled > 0 {
				region := buf[:filled]
				if region[len(region)-1] != '\n' {
					region = append(region, '\n')
				}
				s.region(region, nil)
			}
			break
		}
		cut := bytes.LastIndexByte(buf[:filled], '\n')
		if cut < 0 {
			// A line longer than a chunk: treat the chunk as a line of its own.
			s.stats.Truncated++
			buf[filled-1] = '\n'
			cut = filled - 1
		}
		s.region(buf[:cut+1], nil)
		filled = copy(buf, buf[cut+1:filled])
	}
	s.stats.Lines = s.lineNo - 1
	s.stats.Blank = !s.sawText
	return s.finish(), s.stats, nil
}

// scanBytes is scanLines over input already in memory (a mapped file): the same regions,
// cut at the same places, read in place instead of copied into a buffer first. data is
// never written: a line longer than a chunk and a last line without its newline are
// copied to be ended.
func scanBytes(data []byte, cfg *scanConfig) (kept []rawLine, stats ScanStats, err error) {
	s := &lineScanner{cfg: cfg, lineNo: 1, inPlace: true, data: data}
	s.stats.Bytes = int64(len(data))
	// A mapped file cut short while it is read faults instead of ending: an error, not a
	// crash (findHits' second goroutine and scanAhead's workers hand theirs to this one).
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			fault, ok := r.(interface{ Addr() uintptr })
			if !ok {
				panic(r)
			}
			kept, err = nil, fmt.Errorf("reading log: the file changed while it was read (fault at %#x)", fault.Addr())
		}
	}()
	if err := checkText(data); err != nil {
		return nil, s.stats, err
	}
	s.whole = len(data) < cfg.chunkBytes
	regions := s.cutRegions(data)
	if len(regions) < aheadMin {
		for _, r := range regions {
			s.region(r, nil)
		}
	} else {
		s.scanAhead(regions)
	}
	s.stats.Lines = s.lineNo - 1
	s.stats.Blank = !s.sawText
	return s.finish(), s.stats, nil
}

// cutRegions cuts data into the regions scanLines would read: chunks cut after their last
// newline. data is never written: a line longer than a chunk and a last line without its
// newline are copies, ended with one.
func (s *lineScanner) cutRegions(data []byte) [][]byte {
	var regions [][]byte
	for pos := 0; pos < len(data); {
		end := pos + s.cfg.chunkBytes
		if end > len(data) {
			region := data[pos:]
			if region[len(region)-1] != '\n' {
				region = append(region[:len(region):len(region)], '\n') // a copy: cap == len
			}
			regions = append(regions, region)
			break
		}
		cut := bytes.LastIndexByte(data[pos:end], '\n')
		if cut < 0 {
			// A line longer than a chunk: the chunk is a line of its own, its last byte
			// taken by the newline, as scanLines does.
			s.stats.Truncated++
			line := append([]byte(nil), data[pos:end]...)
			line[len(line)-1] = '\n'
			regions = append(regions, line)
			pos = end
			continue
		}
		regions = append(regions, data[pos:pos+cut+1])
		pos += cut + 1
	}
	return regions
}

// regionHits is a region's trigger hits and its number of lines.
type regionHits struct {
	hits     []acHit
	newlines int
	fault    any // a fault reading the region (a mapped file cut short)
}

// firstReadBytes is the read buffer's size until the input proves longer.
const firstReadBytes = 64 << 10

// aheadMin is the number of regions from which scanAhead finds hits on other cores.
const aheadMin = 4

// aheadWindow bounds how many regions' hits wait, found, for their turn.
const aheadWindow = 8

// scanAhead processes regions in order while two workers find their hits ahead, each
// region on one core. Splitting every region in two instead (findHits) started a
// goroutine per megabyte and waited for it: about a tenth of a 100 MB scan.
func (s *lineScanner) scanAhead(regions [][]byte) {
	m := s.cfg.triggers().m
	ready := make([]chan regionHits, len(regions))
	for i := range ready {
		ready[i] = make(chan regionHits, 1)
	}
	tokens := make(chan struct{}, aheadWindow)
	done := make(chan struct{})
	defer close(done) // a fault below stops the workers
	var next atomic.Int64
	for range 2 {
		go func() {
			var scratch [streams][]acHit
			for {
				select {
				case tokens <- struct{}{}: // a token first, then the next region: no deadlock
				case <-done:
					return
				}
				i := int(next.Add(1)) - 1
				select {
				case <-done:
					return
				default:
				}
				if i >= len(regions) {
					return
				}
				ready[i] <- findAhead(m, regions[i], &scratch)
			}
		}()
	}
	for i, r := range regions {
		found := <-ready[i]
		if found.fault != nil {
			panic(found.fault)
		}
		s.region(r, &found)
		<-tokens
	}
}

// findAhead finds the hits of one region, handing a fault back rather than crashing.
func findAhead(m *matcher, region []byte, scratch *[streams][]acHit) (found regionHits) {
	debug.SetPanicOnFault(true)
	defer func() {
		if r := recover(); r != nil {
			found = regionHits{fault: r}
		}
	}()
	found.hits = m.all(region, nil, scratch)
	found.newlines = numberHits(region, found.hits)
	return found
}

// byteLog is a log already in memory, which the scanner reads in place (FromBytes).
type byteLog struct {
	b   []byte
	off int
}

// FromBytes returns a reader over b that the engine scans in place, without copying it
// through a read buffer: for a memory-mapped log file. b is never written. Read works
// as for any reader; the engine uses what Read has not consumed yet.
func FromBytes(b []byte) io.Reader { return &byteLog{b: b} }

func (l *byteLog) Read(p []byte) (int, error) {
	if l.off >= len(l.b) {
		return 0, io.EOF
	}
	n := copy(p, l.b[l.off:])
	l.off += n
	return n, nil
}

func (l *byteLog) rest() []byte { return l.b[l.off:] }

// region processes a run of complete lines (it ends with '\n'), with its trigger hits when
// they were found ahead (found), else finding them.
func (s *lineScanner) region(region []byte, found *regionHits) {
	if !s.sawText && len(bytes.TrimSpace(region)) > 0 {
		s.sawText = true
	}
	// After-context still owed by a hit at the end of the previous region.
	for p, n := 0, s.lineNo; s.pending > 0 && p < len(region); n++ {
		e := p + bytes.IndexByte(region[p:], '\n')
		s.keep(n, region[p:e])
		p = e + 1
		s.pending--
	}
	s.hits = s.hits[:0]
	var ts *triggerSet
	switch {
	case found != nil: // the region's hits, found ahead on another core (scanAhead)
		ts = s.cfg.triggers()
		s.hits, s.newlines = found.hits, found.newlines
	case !s.whole || len(region) > 2*s.cfg.tailBytes:
		// Lines outside the tail are kept only for their triggers. (An input that is one
		// region no larger than the tail stays whole in it: nothing to look for.)
		ts = s.cfg.triggers()
		s.hits = s.findHits(ts.m, region)
	default:
		s.newlines = bytes.Count(region, newline)
	}
	for i := 0; i < len(s.hits); {
		end := s.hits[i].end
		lineNo := s.lineNo + s.hits[i].line // the number of the hit's line
		ls := bytes.LastIndexByte(region[:end], '\n') + 1
		le := end - 1 + bytes.IndexByte(region[end-1:], '\n')
		after := s.cfg.afterDefault
		for ; i < len(s.hits) && s.hits[i].end <= le; i++ { // every trigger on this line
			after = max(after, ts.after[s.hits[i].pid])
		}
		// Context before the hit, within this region.
		var starts [8]int
		nb := 0
		for p := ls; nb < min(s.cfg.before, len(starts)) && p > 0; nb++ {
			p = bytes.LastIndexByte(region[:p-1], '\n') + 1
			starts[nb] = p
		}
		for j := nb - 1; j >= 0; j-- {
			p := starts[j]
			s.keep(lineNo-j-1, region[p:p+bytes.IndexByte(region[p:], '\n')])
		}
		s.keep(lineNo, region[ls:le])
		p, n := le+1, lineNo+1
		for ; after > 0 && p < len(region); after-- {
			e := p + bytes.IndexByte(region[p:], '\n')
			s.keep(n, region[p:e])
			p, n = e+1, n+1
		}
		s.pending = max(s.pending, after)
	}
	s.lineNo += s.newlines
	s.addTail(region)
}

var newline = []byte{'\n'}

// findHits runs the trigger automaton over the region, on two cores when it is large: the
// halves are split at a line boundary and their hits concatenated in order. Each hit gets
// the number of newlines before it, and s.newlines the region's, counted on the same core
// as the hits (a serial count was a tenth of a 100 MB scan).
func (s *lineScanner) findHits(m *matcher, region []byte) []acHit {
	mid := indexNewline(region, len(region)/2)
	if len(region) < 256<<10 || mid < 0 {
		s.hits = m.all(region, s.hits[:0], &s.scratch[0])
		s.newlines = numberHits(region, s.hits)
		return s.hits
	}
	var wg sync.WaitGroup
	wg.Add(1)
	var fault any
	var newlines2 int
	go func() {
		defer wg.Done()
		if s.inPlace {
			debug.SetPanicOnFault(true)
			defer func() { fault = recover() }()
		}
		s.hits2 = m.all(region[mid+1:], s.hits2[:0], &s.scratch[1])
		newlines2 = numberHits(region[mid+1:], s.hits2)
	}()
	var mainFault any
	func() {
		if s.inPlace {
			defer func() { mainFault = recover() }() // wait for the other half first
		}
		s.hits = m.all(region[:mid+1], s.hits[:0], &s.scratch[0])
		s.newlines = numberHits(region[:mid+1], s.hits)
	}()
	wg.Wait()
	if fault = cmp.Or(mainFault, fault); fault != nil {
		panic(fault)
	}
	for _, h := range s.hits2 {
		s.hits = append(s.hits, acHit{end: h.end + mid + 1, pid: h.pid, line: h.line + s.newlines})
	}
	s.newlines += newlines2
	return s.hits
}

// numberHits sets each hit's line to the number of newlines in b before it and returns
// the number in all of b. Hits are in order of their end.
func numberHits(b []byte, hits []acHit) int {
	pos, n := 0, 0
	for i := range hits {
		if end := hits[i].end; end > pos {
			n += bytes.Count(b[pos:end-1], newline) // a pattern holds no newline
			pos = end - 1
		}
		hits[i].line = n
	}
	return n + bytes.Count(b[pos:], newline)
}

func (s *lineScanner) keep(n int, b []byte) {
	if n <= s.lastKept {
		return
	}
	s.lastKept = n
	b = bytes.TrimSuffix(b, []byte{'\r'})
	if len(b) > s.cfg.maxLineBytes {
		b = b[:s.cfg.maxLineBytes]
		s.stats.Truncated++
	}
	l := rawLine{n: n, text: string(b)}
	if len(s.head) < s.cfg.headKeep {
		s.head = append(s.head, l)
		return
	}
	if len(s.ring) < s.cfg.recentKeep {
		s.ring = append(s.ring, l)
		return
	}
	s.ring[s.ringNext] = l
	s.ringNext = (s.ringNext + 1) % len(s.ring)
	s.ringFull = true
	s.stats.Dropped++
}

// addTail appends region to the tail and trims the tail to its last tailBytes (from a line
// start) once it holds twice that. Scanning in place, the tail is a view of the data (no
// copy: on a big log the copies moved half a byte per byte read); otherwise it is a copy,
// the read buffer being reused.
func (s *lineScanner) addTail(region []byte) {
	if len(s.tail)+len(region) > 2*s.cfg.tailBytes && len(region) >= s.cfg.tailBytes {
		// The trim below would cut inside region: keep its end without copying the rest
		// first (on a big log that copy moved 1.5 bytes per byte read).
		cut := len(region) - s.cfg.tailBytes
		cut += bytes.IndexByte(region[cut:], '\n') + 1
		if s.inPlace {
			s.tail = region[cut:len(region):len(region)]
		} else {
			s.tail = append(s.tail[:0], region[cut:]...)
		}
		return
	}
	s.tail = s.extendTail(region)
	if len(s.tail) <= 2*s.cfg.tailBytes {
		return
	}
	cut := len(s.tail) - s.cfg.tailBytes
	cut += bytes.IndexByte(s.tail[cut:], '\n') + 1
	if s.inPlace {
		s.tail = s.tail[cut:]
	} else {
		s.tail = s.tail[:copy(s.tail, s.tail[cut:])]
	}
}

// extendTail returns the tail followed by region: in place, the view grown over region when
// both lie in the data one after the other; else a copy that never writes into the data.
func (s *lineScanner) extendTail(region []byte) []byte {
	if !s.inPlace {
		return append(s.tail, region...)
	}
	switch {
	case len(s.tail) == 0:
		return region[:len(region):len(region)]
	case within(s.data, s.tail) && within(s.data, region) && follows(s.tail, region):
		start := int(uintptr(unsafe.Pointer(unsafe.SliceData(s.tail))) - uintptr(unsafe.Pointer(unsafe.SliceData(s.data))))
		end := start + len(s.tail) + len(region)
		return s.data[start:end:end]
	}
	out := make([]byte, 0, len(s.tail)+len(region))
	return append(append(out, s.tail...), region...)
}

// within reports whether b lies inside data.
func within(data, b []byte) bool {
	d, p := uintptr(unsafe.Pointer(unsafe.SliceData(data))), uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	return len(b) > 0 && p >= d && p+uintptr(len(b)) <= d+uintptr(len(data))
}

// follows reports whether b starts where a ends.
func follows(a, b []byte) bool {
	return uintptr(unsafe.Pointer(unsafe.SliceData(a)))+uintptr(len(a)) == uintptr(unsafe.Pointer(unsafe.SliceData(b)))
}

func (s *lineScanner) finish() []rawLine {
	// The tail ends where the input does: its first line's number follows from its lines.
	s.tailStart = s.lineNo - bytes.Count(s.tail, newline)
	kept := append([]rawLine(nil), s.head...)
	if s.ringFull {
		kept = append(kept, s.ring[s.ringNext:]...)
		kept = append(kept, s.ring[:s.ringNext]...)
	} else {
		kept = append(kept, s.ring...)
	}
	out := kept[:0:0]
	for _, l := range kept {
		if l.n < s.tailStart {
			out = append(out, l)
		}
	}
	n := s.tailStart
	for rest := s.tail; len(rest) > 0; n++ {
		i := bytes.IndexByte(rest, '\n')
		if i < 0 {
			i = len(rest)
		}
		line := bytes.TrimSuffix(rest[:i], []byte{'\r'})
		if len(line) > s.cfg.maxLineBytes {
			line = line[:s.cfg.maxLineBytes]
			s.stats.Truncated++
		}
		out = append(out, rawLine{n: n, text: string(line)})
		if i == len(rest) {
			break
		}
		rest = rest[i+1:]
	}
	s.stats.Kept = len(out)
	return out
}

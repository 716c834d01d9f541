package diagnose

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"runtime/debug"
	"sync"
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
	triggers     func() *triggerSet
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
	tailStart int // number of the first line in tail
	stats     ScanStats
	lineNo    int // number of the line starting at the next region's first byte
	sawText   bool
	// whole is true when the first read reached the end: the input is one region.
	whole bool
	// inPlace is true when regions are the caller's memory (scanBytes): a fault reading
	// them is handed from findHits' goroutine to scanBytes.
	inPlace bool
	hits    []acHit
	hits2   []acHit
	scratch [2][streams][]acHit
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
	s := &lineScanner{cfg: cfg, lineNo: 1, tailStart: 1}
	buf := make([]byte, cfg.chunkBytes)
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
		if eof {
			s.whole = s.stats.Bytes == int64(filled)
			if filled > 0 {
				region := buf[:filled]
				if region[len(region)-1] != '\n' {
					region = append(region, '\n')
				}
				s.region(region)
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
		s.region(buf[:cut+1])
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
	s := &lineScanner{cfg: cfg, lineNo: 1, tailStart: 1, inPlace: true}
	s.stats.Bytes = int64(len(data))
	// A mapped file cut short while it is read faults instead of ending: an error, not a
	// crash (findHits' second goroutine hands its fault over to this one).
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
	for pos := 0; pos < len(data); {
		end := pos + cfg.chunkBytes
		if end > len(data) {
			region := data[pos:]
			if region[len(region)-1] != '\n' {
				region = append(region[:len(region):len(region)], '\n') // a copy: cap == len
			}
			s.region(region)
			break
		}
		cut := bytes.LastIndexByte(data[pos:end], '\n')
		if cut < 0 {
			// A line longer than a chunk: the chunk is a line of its own, its last byte
			// taken by the newline, as scanLines does.
			s.stats.Truncated++
			line := append([]byte(nil), data[pos:end]...)
			line[len(line)-1] = '\n'
			s.region(line)
			pos = end
			continue
		}
		s.region(data[pos : pos+cut+1])
		pos += cut + 1
	}
	s.stats.Lines = s.lineNo - 1
	s.stats.Blank = !s.sawText
	return s.finish(), s.stats, nil
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

// region processes a run of complete lines (it ends with '\n').
func (s *lineScanner) region(region []byte) {
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
	if !s.whole || len(region) > 2*s.cfg.tailBytes {
		// Lines outside the tail are kept only for their triggers. (An input that is one
		// region no larger than the tail stays whole in it: nothing to look for.)
		ts = s.cfg.triggers()
		s.hits = s.findHits(ts.m, region)
	}
	pos, lineNo := 0, s.lineNo // lineNo is the number of the line starting at pos
	for i := 0; i < len(s.hits); {
		end := s.hits[i].end
		ls := bytes.LastIndexByte(region[:end], '\n') + 1
		le := end - 1 + bytes.IndexByte(region[end-1:], '\n')
		after := s.cfg.afterDefault
		for ; i < len(s.hits) && s.hits[i].end <= le; i++ { // every trigger on this line
			after = max(after, ts.after[s.hits[i].pid])
		}
		lineNo += bytes.Count(region[pos:ls], newline)
		pos = ls
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
	s.lineNo = lineNo + bytes.Count(region[pos:], newline)
	s.addTail(region)
}

var newline = []byte{'\n'}

// findHits runs the trigger automaton over the region, on two cores when it is large: the
// halves are split at a line boundary and their hits concatenated in order.
func (s *lineScanner) findHits(m *matcher, region []byte) []acHit {
	mid := indexNewline(region, len(region)/2)
	if len(region) < 256<<10 || mid < 0 {
		return m.all(region, s.hits[:0], &s.scratch[0])
	}
	var wg sync.WaitGroup
	wg.Add(1)
	var fault any
	go func() {
		defer wg.Done()
		if s.inPlace {
			debug.SetPanicOnFault(true)
			defer func() { fault = recover() }()
		}
		s.hits2 = m.all(region[mid+1:], s.hits2[:0], &s.scratch[1])
	}()
	var mainFault any
	func() {
		if s.inPlace {
			defer func() { mainFault = recover() }() // wait for the other half first
		}
		s.hits = m.all(region[:mid+1], s.hits[:0], &s.scratch[0])
	}()
	wg.Wait()
	if fault = cmp.Or(mainFault, fault); fault != nil {
		panic(fault)
	}
	for _, h := range s.hits2 {
		s.hits = append(s.hits, acHit{h.end + mid + 1, h.pid})
	}
	return s.hits
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
// start) once it holds twice that. s.lineNo is already the number of the line after region.
func (s *lineScanner) addTail(region []byte) {
	if len(s.tail)+len(region) > 2*s.cfg.tailBytes && len(region) >= s.cfg.tailBytes {
		// The trim below would cut inside region: keep its end without copying the rest
		// first (on a big log that copy moved 1.5 bytes per byte read).
		cut := len(region) - s.cfg.tailBytes
		cut += bytes.IndexByte(region[cut:], '\n') + 1
		s.tail = append(s.tail[:0], region[cut:]...)
		s.tailStart = s.lineNo - bytes.Count(s.tail, newline)
		return
	}
	s.tail = append(s.tail, region...)
	if len(s.tail) <= 2*s.cfg.tailBytes {
		return
	}
	cut := len(s.tail) - s.cfg.tailBytes
	cut += bytes.IndexByte(s.tail[cut:], '\n') + 1
	s.tailStart += bytes.Count(s.tail[:cut], newline)
	s.tail = s.tail[:copy(s.tail, s.tail[cut:])]
}

func (s *lineScanner) finish() []rawLine {
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

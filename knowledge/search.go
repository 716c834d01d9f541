package knowledge

import (
	"sort"
	"strings"

	"github.com/sahilm/fuzzy"
)

// Hit is one rule found by Search.
type Hit struct {
	Rule  *Rule
	Score int
	// Matched is how many of the query's words matched this rule.
	Matched int
}

// Search ranks rules by loose words ("e404 put token expired"): each word is matched,
// fuzzily, against a rule's id, title and anchor texts; rules matching more words rank
// first, then by match quality. It is for short keys that people type, never for log lines.
func (b *Base) Search(query string, limit int) []Hit {
	words := strings.Fields(strings.ToLower(query))
	if len(words) == 0 {
		return nil
	}
	keys := b.searchKeys()
	texts := make([]string, len(keys))
	for i, k := range keys {
		texts[i] = k.text
	}
	score := make([]int, len(b.Rules))
	matched := make([]int, len(b.Rules))
	for _, w := range words {
		best, hit := bestMatches(w, keys, texts, len(b.Rules))
		for i := range b.Rules {
			if hit[i] {
				score[i] += best[i]
				matched[i]++
			}
		}
	}
	var hits []Hit
	for i, r := range b.Rules {
		if matched[i] > 0 {
			hits = append(hits, Hit{Rule: r, Score: score[i], Matched: matched[i]})
		}
	}
	sort.SliceStable(hits, func(i, j int) bool {
		if hits[i].Matched != hits[j].Matched {
			return hits[i].Matched > hits[j].Matched
		}
		if hits[i].Score != hits[j].Score {
			return hits[i].Score > hits[j].Score
		}
		return hits[i].Rule.ID < hits[j].Rule.ID
	})
	if limit > 0 && len(hits) > limit {
		hits = hits[:limit]
	}
	return hits
}

// searchKey is a text a word is matched against: a rule's id (weight 3), title (2) or one
// of its anchors (1), lower-cased.
type searchKey struct {
	rule   int
	text   string
	weight int
}

func (b *Base) searchKeys() []searchKey {
	var keys []searchKey
	for i, r := range b.Rules {
		keys = append(keys, searchKey{i, strings.ToLower(r.ID), 3}, searchKey{i, strings.ToLower(r.Title), 2})
		for _, a := range ruleAnchors(r) {
			keys = append(keys, searchKey{i, strings.ToLower(a), 1})
		}
	}
	return keys
}

// bestMatches scores word w against every key and keeps, per rule (of n), the best score
// and whether any key matched.
func bestMatches(w string, keys []searchKey, texts []string, n int) (best []int, hit []bool) {
	best = make([]int, n)
	hit = make([]bool, n)
	for _, m := range fuzzy.FindNoSort(w, texts) {
		k := keys[m.Index]
		s := m.Score
		if strings.Contains(k.text, w) {
			s += 40 // the word itself, not just its letters in order
		} else if len(w) > 3 && m.Score < 0 {
			continue // letters scattered across a long text: noise
		}
		s += 10 * k.weight
		if !hit[k.rule] || s > best[k.rule] {
			best[k.rule], hit[k.rule] = s, true
		}
	}
	return best, hit
}

// ruleAnchors lists the texts of a rule's match anchors.
func ruleAnchors(r *Rule) []string {
	var out []string
	for _, m := range r.MatchAnchors() {
		out = append(out, m.Anchor.Text())
	}
	return out
}

// MatchAnchor is an anchor of a rule's match with the source of its wording: given on the
// condition, else on the anchor (patterns.yaml); nil when none is recorded.
type MatchAnchor struct {
	Anchor *Anchor
	Source *Source
}

// MatchAnchors lists each distinct anchor of the rule's match, depth first, in the order
// written: what docs/rules.md, docs/sources.md, search and `kb show` describe.
func (r *Rule) MatchAnchors() []MatchAnchor {
	var out []MatchAnchor
	seen := map[*Anchor]bool{}
	var walk func(c *Cond)
	walk = func(c *Cond) {
		if c.Anchor != nil && !seen[c.Anchor] {
			seen[c.Anchor] = true
			src := c.Source
			if src == nil {
				src = c.Anchor.Source
			}
			out = append(out, MatchAnchor{Anchor: c.Anchor, Source: src})
		}
		for i := range c.All {
			walk(&c.All[i])
		}
		for i := range c.Any {
			walk(&c.Any[i])
		}
	}
	walk(&r.Match)
	return out
}

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
	type key struct {
		rule   int
		text   string
		weight int
	}
	var keys []key
	for i, r := range b.Rules {
		keys = append(keys, key{i, strings.ToLower(r.ID), 3}, key{i, strings.ToLower(r.Title), 2})
		for _, a := range ruleAnchors(r) {
			keys = append(keys, key{i, strings.ToLower(a), 1})
		}
	}
	texts := make([]string, len(keys))
	for i, k := range keys {
		texts[i] = k.text
	}
	score := make([]int, len(b.Rules))
	matched := make([]int, len(b.Rules))
	for _, w := range words {
		best := make([]int, len(b.Rules))
		hit := make([]bool, len(b.Rules))
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

// ruleAnchors lists the texts of a rule's match anchors.
func ruleAnchors(r *Rule) []string {
	var out []string
	var walk func(c *Cond)
	walk = func(c *Cond) {
		if c.Anchor != nil {
			out = append(out, c.Anchor.Text())
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

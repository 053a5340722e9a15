package main

// The consumer role (partitions assigned by kch, no group) and what it shares with the
// member role (member.go): client options, partition lists, batch writing.

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sort"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

const pollWait = 200 * time.Millisecond

func baseOpts(s *settings) []kgo.Opt {
	return append([]kgo.Opt{
		kgo.SeedBrokers(s.seeds...),
		kgo.WithLogger(kgo.BasicLogger(os.Stderr, kgo.LogLevelInfo, nil)),
	}, s.opts...)
}

func partsJSON(m map[string][]int32) []map[string]any {
	topics := make([]string, 0, len(m))
	for t := range m {
		topics = append(topics, t)
	}
	sort.Strings(topics)
	out := []map[string]any{}
	for _, t := range topics {
		ps := append([]int32(nil), m[t]...)
		sort.Slice(ps, func(i, j int) bool { return ps[i] < ps[j] })
		for _, p := range ps {
			out = append(out, map[string]any{"topic": t, "partition": p})
		}
	}
	return out
}

// notHeld lists the partitions of topic t in ps that m does not hold.
func notHeld(m map[string][]int32, t string, ps []int32) []int32 {
	var out []int32
	for _, p := range ps {
		if !contains(m[t], p) {
			out = append(out, p)
		}
	}
	return out
}

func contains(ps []int32, p int32) bool {
	for _, q := range ps {
		if q == p {
			return true
		}
	}
	return false
}

func union(a, b []int32) []int32 {
	out := append([]int32{}, a...)
	for _, p := range b {
		if !contains(out, p) {
			out = append(out, p)
		}
	}
	return out
}

func minus(a, b []int32) []int32 {
	var out []int32
	for _, p := range a {
		if !contains(b, p) {
			out = append(out, p)
		}
	}
	return out
}

// tpsUnion merges b into a copy of a.
func tpsUnion(a, b map[string][]int32) map[string][]int32 {
	out := map[string][]int32{}
	for t, ps := range a {
		out[t] = append([]int32{}, ps...)
	}
	for t, ps := range b {
		out[t] = union(out[t], ps)
	}
	return out
}

func count(m map[string][]int32) int {
	n := 0
	for _, ps := range m {
		n += len(ps)
	}
	return n
}

// writeBatch writes one poll's records as record_data lines and their records_consumed,
// all under one hold of the output lock.
func writeBatch(recs []*kgo.Record) {
	type tp struct {
		t string
		p int32
	}
	type sum struct {
		n        int
		min, max int64
	}
	var order []tp
	sums := map[tp]*sum{}
	out.mu.Lock()
	defer out.mu.Unlock()
	for _, r := range recs {
		var key any
		if r.Key != nil {
			key = string(r.Key)
		}
		out.writeLocked("record_data", fields{f("topic", r.Topic), f("partition", r.Partition),
			f("offset", r.Offset), f("key", key), f("value", string(r.Value))})
		k := tp{r.Topic, r.Partition}
		s := sums[k]
		if s == nil {
			s = &sum{min: r.Offset, max: r.Offset}
			sums[k] = s
			order = append(order, k)
		}
		s.n++
		if r.Offset < s.min {
			s.min = r.Offset
		}
		if r.Offset > s.max {
			s.max = r.Offset
		}
	}
	parts := make([]map[string]any, 0, len(order))
	for _, k := range order {
		s := sums[k]
		parts = append(parts, map[string]any{"topic": k.t, "partition": k.p, "count": s.n,
			"minOffset": s.min, "maxOffset": s.max})
	}
	out.writeLocked("records_consumed", fields{f("count", len(recs)), f("partitions", parts)})
}

func logFetchErrors(fetches kgo.Fetches) {
	fetches.EachError(func(t string, p int32, err error) {
		if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
			return
		}
		logf("fetch error %s/%d: %v", t, p, err)
	})
}

// ---------------------------------------------------------------------------------------
// consumer: partitions assigned by kch, no group.

func runConsumer(start *command, s *settings, cmds <-chan *command) {
	cl, err := kgo.NewClient(baseOpts(s)...)
	if err != nil {
		startupFailed(err.Error(), nil)
	}
	adm := kadm.NewClient(cl)
	emit("startup_complete", f("client", "franz-go"), f("version", clientVersion()))
	assigned := map[string][]int32{}
	paused := map[string][]int32{}

	handle := func(c *command) {
		switch c.Op {
		case "assign":
			if count(assigned) > 0 {
				cl.RemoveConsumePartitions(assigned)
				emit("partitions_revoked", f("partitions", partsJSON(assigned)))
			}
			if count(paused) > 0 { // a new assignment starts unpaused
				cl.ResumeFetchPartitions(paused)
				paused = map[string][]int32{}
			}
			assigned = map[string][]int32{c.Topic: append([]int32{}, c.Partitions...)}
			emit("partitions_assigned", f("partitions", partsJSON(assigned)))
			offsets := map[int32]kgo.Offset{}
			for _, p := range c.Partitions {
				if o, ok := c.Offsets[strconv.Itoa(int(p))]; ok {
					offsets[p] = kgo.NewOffset().At(o)
				} else {
					offsets[p] = kgo.NewOffset().AtStart()
				}
			}
			cl.AddConsumePartitions(map[string]map[int32]kgo.Offset{c.Topic: offsets})
		case "pause", "resume":
			if missing := notHeld(assigned, c.Topic, c.Partitions); len(missing) > 0 {
				emit("error", f("op", c.Op), f("message", fmt.Sprintf("%s: partitions %v of %s are not assigned", c.Op, missing, c.Topic)))
				break
			}
			tps := map[string][]int32{c.Topic: append([]int32{}, c.Partitions...)}
			if c.Op == "pause" {
				cl.PauseFetchPartitions(tps)
				paused[c.Topic] = union(paused[c.Topic], c.Partitions)
				emit("partitions_paused", f("partitions", partsJSON(tps)))
			} else {
				cl.ResumeFetchPartitions(tps)
				paused[c.Topic] = minus(paused[c.Topic], c.Partitions)
				emit("partitions_resumed", f("partitions", partsJSON(tps)))
			}
		case "end_offsets":
			go endOffsets(adm, c)
		case "shutdown":
			done := make(chan struct{})
			go func() { cl.Close(); close(done) }()
			select {
			case <-done:
			case <-time.After(8 * time.Second):
				logf("shutdown: close did not finish within 8 s")
			}
			shutdownComplete()
		default:
			unknownOp(c, "consumer")
		}
	}

	for {
		if count(assigned) == 0 {
			handle(<-cmds)
			continue
		}
	drain:
		for {
			select {
			case c := <-cmds:
				handle(c)
			default:
				break drain
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), pollWait)
		fetches := cl.PollRecords(ctx, s.pollRecords)
		cancel()
		logFetchErrors(fetches)
		if recs := fetches.Records(); len(recs) > 0 {
			writeBatch(recs)
		}
	}
}

func endOffsets(adm *kadm.Client, c *command) {
	timeout := 15 * time.Second
	if c.TimeoutMs != nil {
		timeout = time.Duration(*c.TimeoutMs * float64(time.Millisecond))
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	got := map[string]int64{}
	var lastErr error
	for {
		listed, err := adm.ListEndOffsets(ctx, c.Topic)
		if err != nil {
			lastErr = err
		} else {
			for _, p := range c.Partitions {
				if o, ok := listed.Lookup(c.Topic, p); ok {
					if o.Err != nil {
						lastErr = o.Err
					} else {
						got[fmt.Sprint(p)] = o.Offset
					}
				} else {
					lastErr = fmt.Errorf("partition %d not listed", p)
				}
			}
		}
		if len(got) == len(c.Partitions) || ctx.Err() != nil {
			break
		}
		select {
		case <-ctx.Done():
		case <-time.After(250 * time.Millisecond):
		}
	}
	fs := fields{f("topic", c.Topic), f("offsets", got)}
	if len(got) < len(c.Partitions) && lastErr != nil {
		fs = append(fs, f("error", lastErr.Error()))
	}
	out.emit("end_offsets", fs)
}

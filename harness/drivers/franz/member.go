package main

// member: a consumer-group member.

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

type pendingCommit struct {
	offsets []map[string]any
	done    bool
}

type member struct {
	cl      *kgo.Client
	s       *settings
	topic   string
	async   sync.WaitGroup
	commits map[*pendingCommit]bool // started, not yet answered; guarded by out.mu

	ownedMu sync.Mutex
	owned   map[string][]int32 // what the rebalance callbacks gave and did not take back

	paused     map[string][]int32 // paused by pause_partitions (loop goroutine only)
	pausing    bool
	pauseUntil time.Time
}

func (m *member) own(add, remove map[string][]int32) {
	m.ownedMu.Lock()
	defer m.ownedMu.Unlock()
	m.owned = tpsUnion(m.owned, add)
	for t, ps := range remove {
		m.owned[t] = minus(m.owned[t], ps)
		if len(m.owned[t]) == 0 {
			delete(m.owned, t)
		}
	}
}

func (m *member) ownedNow() map[string][]int32 {
	m.ownedMu.Lock()
	defer m.ownedMu.Unlock()
	return tpsUnion(m.owned, nil)
}

// pausePartitions pauses every partition owned now for c.Ms while the member polls on (a
// pause under way is extended).
func (m *member) pausePartitions(c *command) {
	owned := m.ownedNow()
	if count(owned) > 0 {
		m.cl.PauseFetchPartitions(owned)
	}
	m.paused = tpsUnion(m.paused, owned)
	until := time.Now().Add(time.Duration(c.Ms * float64(time.Millisecond)))
	if !m.pausing || until.After(m.pauseUntil) {
		m.pauseUntil = until
	}
	m.pausing = true
	emit("partitions_paused", f("partitions", partsJSON(owned)), f("ms", c.Ms))
}

// maybeResume ends a pause that is due: everything paused is resumed (franz-go would keep a
// revoked partition paused if it came back), the partitions still owned are reported.
func (m *member) maybeResume() {
	if !m.pausing || time.Now().Before(m.pauseUntil) {
		return
	}
	if count(m.paused) > 0 {
		m.cl.ResumeFetchPartitions(m.paused)
	}
	owned := m.ownedNow()
	back := map[string][]int32{}
	for t, ps := range m.paused {
		for _, p := range ps {
			if contains(owned[t], p) {
				back[t] = append(back[t], p)
			}
		}
	}
	m.paused, m.pausing = map[string][]int32{}, false
	emit("partitions_resumed", f("partitions", partsJSON(back)))
}

// resubscribe changes the subscription: the topic is purged from consuming (the group
// revokes it through OnPartitionsRevoked) and added again (the member rejoins for it).
func (m *member) resubscribe() {
	m.cl.PurgeTopicsFromConsuming(m.topic)
	m.cl.AddConsumeTopics(m.topic)
	emit("resubscribed")
}

// definiteCommit are commit errors the coordinator gives before it writes anything.
var definiteCommit = []*kerr.Error{
	kerr.IllegalGeneration, kerr.UnknownMemberID, kerr.RebalanceInProgress, kerr.FencedInstanceID,
	kerr.StaleMemberEpoch, kerr.FencedMemberEpoch, kerr.GroupAuthorizationFailed,
	kerr.TopicAuthorizationFailed, kerr.OffsetMetadataTooLarge, kerr.InvalidCommitOffsetSize,
	kerr.UnknownTopicOrPartition, kerr.UnknownTopicID, kerr.CoordinatorLoadInProgress,
	kerr.InvalidGroupID, kerr.GroupIDNotFound, kerr.UnsupportedVersion,
}

func isDefiniteCommit(code int16) bool {
	for _, e := range definiteCommit {
		if e.Code == code {
			return true
		}
	}
	return false
}

// commitOutcome judges a commit's response: success, the error text, and whether the
// commit certainly did not apply (every partition refused before the write).
func commitOutcome(resp *kmsg.OffsetCommitResponse, err error) (bool, string, bool) {
	if err != nil {
		return false, err.Error(), false
	}
	var errs []string
	total, failed, definite := 0, 0, 0
	if resp != nil {
		for _, t := range resp.Topics {
			for _, p := range t.Partitions {
				total++
				if p.ErrorCode == 0 {
					continue
				}
				failed++
				e := kerr.ErrorForCode(p.ErrorCode)
				errs = append(errs, fmt.Sprintf("%s/%d: %v", t.Topic, p.Partition, e))
				if isDefiniteCommit(p.ErrorCode) {
					definite++
				}
			}
		}
	}
	if failed == 0 {
		return true, "", false
	}
	return false, strings.Join(errs, "; "), failed == total && definite == failed
}

func offsetsJSON(offs map[string]map[int32]kgo.EpochOffset) []map[string]any {
	topics := make([]string, 0, len(offs))
	for t := range offs {
		topics = append(topics, t)
	}
	sort.Strings(topics)
	var out []map[string]any
	for _, t := range topics {
		ps := make([]int32, 0, len(offs[t]))
		for p := range offs[t] {
			ps = append(ps, p)
		}
		sort.Slice(ps, func(i, j int) bool { return ps[i] < ps[j] })
		for _, p := range ps {
			out = append(out, map[string]any{"topic": t, "partition": p, "offset": offs[t][p].Offset})
		}
	}
	return out
}

func reqOffsetsJSON(req *kmsg.OffsetCommitRequest) []map[string]any {
	var out []map[string]any
	if req == nil {
		return out
	}
	for _, t := range req.Topics {
		for _, p := range t.Partitions {
			out = append(out, map[string]any{"topic": t.Topic, "partition": p.Partition, "offset": p.Offset})
		}
	}
	return out
}

func (m *member) startCommit(offs map[string]map[int32]kgo.EpochOffset, async bool) *pendingCommit {
	pc := &pendingCommit{offsets: offsetsJSON(offs)}
	out.mu.Lock()
	m.commits[pc] = true
	out.writeLocked("offsets_commit_started", fields{f("offsets", pc.offsets), f("async", async)})
	out.mu.Unlock()
	return pc
}

func (m *member) finishCommit(pc *pendingCommit, success bool, errText string, definite bool) {
	out.mu.Lock()
	defer out.mu.Unlock()
	if pc.done {
		return
	}
	pc.done = true
	delete(m.commits, pc)
	fs := fields{f("offsets", pc.offsets), f("success", success)}
	if !success {
		fs = append(fs, f("error", errText), f("definite", definite))
	}
	out.writeLocked("offsets_committed", fs)
}

// autoCommitted reports a commit franz-go made by itself (auto-commit mode).
func autoCommitted(_ *kgo.Client, req *kmsg.OffsetCommitRequest, resp *kmsg.OffsetCommitResponse, err error) {
	offsets := reqOffsetsJSON(req)
	if len(offsets) == 0 {
		return // nothing to commit: franz-go calls back anyway
	}
	success, errText, definite := commitOutcome(resp, err)
	fs := fields{f("offsets", offsets), f("success", success), f("auto", true)}
	if !success {
		fs = append(fs, f("error", errText), f("definite", definite))
	}
	out.emit("offsets_committed", fs)
}

func runMember(start *command, s *settings, cmds <-chan *command) {
	if start.Topic == "" || start.Group == "" {
		startupFailed("a member needs topic and group", nil)
	}
	m := &member{s: s, topic: start.Topic, commits: map[*pendingCommit]bool{}, owned: map[string][]int32{},
		paused: map[string][]int32{}}
	opts := append(baseOpts(s),
		kgo.ConsumerGroup(start.Group),
		kgo.ConsumeTopics(start.Topic),
		// Rebalance callbacks run only between polls: after a batch is processed, written
		// and committed (AllowRebalance at the top of the loop), never while a batch is in
		// hand, so the member never reports records of a partition it no longer holds.
		kgo.BlockRebalanceOnPoll(),
		kgo.OnPartitionsAssigned(func(_ context.Context, _ *kgo.Client, a map[string][]int32) {
			m.own(a, nil)
			if count(a) > 0 {
				emit("partitions_assigned", f("partitions", partsJSON(a)))
			}
		}),
		kgo.OnPartitionsRevoked(func(ctx context.Context, cl *kgo.Client, r map[string][]int32) {
			if s.mode == "auto-commit" {
				// Overriding the revoke callback replaces franz-go's default, which commits
				// everything polled before giving partitions up; do the same (the Java
				// client also commits before its revocation callback).
				cl.CommitOffsetsSync(ctx, cl.UncommittedOffsets(), autoCommitted)
			}
			m.own(nil, r)
			if count(r) > 0 {
				emit("partitions_revoked", f("partitions", partsJSON(r)))
			}
		}),
		kgo.OnPartitionsLost(func(_ context.Context, _ *kgo.Client, l map[string][]int32) {
			m.own(nil, l)
			if count(l) > 0 {
				emit("partitions_revoked", f("partitions", partsJSON(l)), f("lost", true))
			}
		}),
	)
	if s.mode == "auto-commit" {
		opts = append(opts, kgo.AutoCommitCallback(autoCommitted))
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		startupFailed(err.Error(), nil)
	}
	m.cl = cl
	emit("startup_complete", f("client", "franz-go"), f("version", clientVersion()))

	var deferred []*command
	for {
		m.maybeResume()
		// Commands are handled while the previous poll still blocks rebalancing: a stall is
		// a member that does not come back to poll, as in the Java client, where rebalance
		// callbacks only run inside poll().
		for {
			var c *command
			if len(deferred) > 0 {
				c, deferred = deferred[0], deferred[1:]
			} else {
				select {
				case c = <-cmds:
				default:
				}
			}
			if c == nil {
				break
			}
			switch c.Op {
			case "stall":
				deferred = append(deferred, m.stall(c, cmds)...)
			case "pause_partitions":
				m.pausePartitions(c)
			case "resubscribe":
				m.resubscribe()
			case "shutdown":
				m.shutdown()
			default:
				unknownOp(c, "member")
			}
		}
		cl.AllowRebalance()
		ctx, cancel := context.WithTimeout(context.Background(), pollWait)
		fetches := cl.PollRecords(ctx, s.pollRecords)
		cancel()
		if fetches.IsClientClosed() {
			m.shutdown()
		}
		logFetchErrors(fetches)
		recs := fetches.Records()
		if len(recs) == 0 {
			continue
		}
		if s.processMs > 0 {
			time.Sleep(time.Duration(s.processMs * float64(len(recs)) * float64(time.Millisecond)))
		}
		writeBatch(recs)
		m.commit(recs)
	}
}

func (m *member) commit(recs []*kgo.Record) {
	if m.s.mode == "auto-commit" {
		return
	}
	offs := map[string]map[int32]kgo.EpochOffset{}
	for _, r := range recs {
		t := offs[r.Topic]
		if t == nil {
			t = map[int32]kgo.EpochOffset{}
			offs[r.Topic] = t
		}
		if cur, ok := t[r.Partition]; !ok || r.Offset+1 > cur.Offset {
			t[r.Partition] = kgo.EpochOffset{Epoch: r.LeaderEpoch, Offset: r.Offset + 1}
		}
	}
	if m.s.mode == "commit-async" {
		pc := m.startCommit(offs, true)
		m.async.Add(1)
		m.cl.CommitOffsets(context.Background(), offs, func(_ *kgo.Client, _ *kmsg.OffsetCommitRequest, resp *kmsg.OffsetCommitResponse, err error) {
			defer m.async.Done()
			success, errText, definite := commitOutcome(resp, err)
			m.finishCommit(pc, success, errText, definite)
		})
		return
	}
	pc := m.startCommit(offs, false)
	ctx, cancel := context.WithTimeout(context.Background(), m.s.commitTimeout)
	defer cancel()
	m.cl.CommitOffsetsSync(ctx, offs, func(_ *kgo.Client, _ *kmsg.OffsetCommitRequest, resp *kmsg.OffsetCommitResponse, err error) {
		success, errText, definite := commitOutcome(resp, err)
		m.finishCommit(pc, success, errText, definite)
	})
}

// stall stops polling for c.Ms; commands other than shutdown that arrive meanwhile are
// returned to be handled after it.
func (m *member) stall(c *command, cmds <-chan *command) []*command {
	emit("stalled", f("ms", c.Ms))
	var later []*command
	timer := time.NewTimer(time.Duration(c.Ms * float64(time.Millisecond)))
	defer timer.Stop()
	for {
		select {
		case <-timer.C:
			emit("resumed")
			return later
		case c2 := <-cmds:
			if c2.Op == "shutdown" {
				emit("resumed")
				m.shutdown()
			}
			later = append(later, c2)
		}
	}
}

func (m *member) shutdown() {
	waited := make(chan struct{})
	go func() { m.async.Wait(); close(waited) }()
	select {
	case <-waited:
	case <-time.After(5 * time.Second):
		logf("shutdown: async commits still running after 5 s")
	}
	done := make(chan struct{})
	go func() { m.cl.CloseAllowingRebalance(); close(done) }()
	select {
	case <-done:
	case <-time.After(8 * time.Second):
		logf("shutdown: close (leaving the group) did not finish within 8 s")
	}
	out.mu.Lock()
	var left []*pendingCommit
	for pc := range m.commits {
		left = append(left, pc)
	}
	out.mu.Unlock()
	for _, pc := range left {
		m.finishCommit(pc, false, "the client closed before the commit had an outcome", false)
	}
	shutdownComplete()
}

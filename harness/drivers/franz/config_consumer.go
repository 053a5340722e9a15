package main

// Java client properties -> kgo options: the consumer and the member (the keys every role
// takes are in config.go).
//
// Consumer and member:
//
//	group.id                 ignored (the start command's group is used)
//	auto.offset.reset        earliest: ConsumeStartOffset+ConsumeResetOffset AtStart; latest: AtEnd;
//	                         none: AtCommitted + NoResetOffset. Unset: franz-go's default (start at
//	                         the earliest offset, as kch's own member does)
//	fetch.max.wait.ms        FetchMaxWait (also accepted under librdkafka's name fetch.wait.max.ms)
//	fetch.min.bytes          FetchMinBytes
//	fetch.max.bytes          FetchMaxBytes
//	max.partition.fetch.bytes FetchMaxPartitionBytes
//	isolation.level          FetchIsolationLevel
//	max.poll.records         the maxPollRecords given to PollRecords (default 500, as Java)
//	client.rack              Rack
//	check.crcs               false: DisableFetchCRCValidation
//	allow.auto.create.topics true: AllowAutoTopicCreation
//	default.api.timeout.ms   the bound of a synchronous commit (default 60000, as Java)
//
// Member (the consumer role has no group: these are accepted and have no effect there):
//
//	enable.auto.commit       the start command's mode decides (auto-commit: franz-go autocommit;
//	                         otherwise DisableAutoCommit); the key is accepted
//	auto.commit.interval.ms  AutoCommitInterval
//	session.timeout.ms       SessionTimeout      (classic protocols only; the broker owns it for consumer)
//	heartbeat.interval.ms    HeartbeatInterval   (classic protocols only)
//	max.poll.interval.ms     RebalanceTimeout. franz-go has no poll-interval timer: it heartbeats from
//	                         its own goroutine and never leaves a group because the application is slow.
//	                         The closest setting is the rebalance timeout, which is also what the Java
//	                         client sends as JoinGroup's rebalance timeout: how long the group waits for
//	                         this member to finish its revocation before it is removed.
//	partition.assignment.strategy  classic-eager: Balancers of range, roundrobin, sticky or
//	                         cooperative-sticky (short names or Java class names); default range.
//	                         classic-cooperative always uses CooperativeStickyBalancer.
//	group.instance.id        InstanceID (static membership)
//	group.protocol           classic or consumer (must agree with the start command's protocol)
//	group.remote.assignor    consumer protocol: range -> RangeBalancer (server "range"), uniform or
//	                         unset -> StickyBalancer (server "uniform"), with ServerSideBalancer

import (
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

var consumerKeys = map[string]bool{
	"group.id": true, "auto.offset.reset": true, "fetch.max.wait.ms": true, "fetch.wait.max.ms": true,
	"fetch.min.bytes": true, "fetch.max.bytes": true, "max.partition.fetch.bytes": true,
	"isolation.level": true, "max.poll.records": true, "client.rack": true, "check.crcs": true,
	"allow.auto.create.topics": true, "default.api.timeout.ms": true, "key.deserializer": true,
	"value.deserializer": true,
	// group keys (no effect for the consumer role)
	"enable.auto.commit": true, "auto.commit.interval.ms": true, "session.timeout.ms": true,
	"heartbeat.interval.ms": true, "max.poll.interval.ms": true, "partition.assignment.strategy": true,
	"group.instance.id": true, "group.protocol": true, "group.remote.assignor": true,
}

func (s *settings) parseConsumer(conf map[string]string, ms msFn, integer intFn, boolean boolFn, bad badFn, add addFn) {
	if s.reqTimeout > 0 {
		add(kgo.RequestTimeoutOverhead(clampOverhead(s.reqTimeout)))
	}
	if v, ok := conf["auto.offset.reset"]; ok {
		switch strings.ToLower(v) {
		case "earliest":
			add(kgo.ConsumeStartOffset(kgo.NewOffset().AtStart()), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
		case "latest":
			add(kgo.ConsumeStartOffset(kgo.NewOffset().AtEnd()), kgo.ConsumeResetOffset(kgo.NewOffset().AtEnd()))
		case "none":
			add(kgo.ConsumeStartOffset(kgo.NewOffset().AtCommitted()), kgo.ConsumeResetOffset(kgo.NoResetOffset()))
		default:
			bad("auto.offset.reset", "not earliest, latest or none")
		}
	}
	wait, ok := ms("fetch.max.wait.ms")
	if w2, ok2 := ms("fetch.wait.max.ms"); ok2 && !ok {
		wait, ok = w2, true
	}
	if ok {
		if wait < time.Millisecond {
			wait = time.Millisecond
		}
		add(kgo.FetchMaxWait(wait))
	}
	if n, ok := integer("fetch.min.bytes"); ok {
		add(kgo.FetchMinBytes(int32(n)))
	}
	if n, ok := integer("fetch.max.bytes"); ok {
		add(kgo.FetchMaxBytes(int32(n)))
	}
	if n, ok := integer("max.partition.fetch.bytes"); ok {
		add(kgo.FetchMaxPartitionBytes(int32(n)))
	}
	if v, ok := conf["isolation.level"]; ok {
		switch strings.ToLower(v) {
		case "read_uncommitted":
			add(kgo.FetchIsolationLevel(kgo.ReadUncommitted()))
		case "read_committed":
			add(kgo.FetchIsolationLevel(kgo.ReadCommitted()))
		default:
			bad("isolation.level", "not read_uncommitted or read_committed")
		}
	}
	if n, ok := integer("max.poll.records"); ok {
		if n < 1 {
			bad("max.poll.records", "must be at least 1")
		} else {
			s.pollRecords = int(n)
		}
	}
	if v, ok := conf["client.rack"]; ok && v != "" {
		add(kgo.Rack(v))
	}
	if v, ok := boolean("check.crcs"); ok && !v {
		add(kgo.DisableFetchCRCValidation())
	}
	if v, ok := boolean("allow.auto.create.topics"); ok && v {
		add(kgo.AllowAutoTopicCreation())
	}
	if d, ok := ms("default.api.timeout.ms"); ok {
		s.commitTimeout = d
	}
	boolean("enable.auto.commit") // validated; the member's mode decides

	if s.role != "member" {
		return // group keys have no effect without a group
	}
	g := []kgo.Opt{}
	classic := s.protocol != "consumer"
	if d, ok := ms("session.timeout.ms"); ok && classic {
		g = append(g, kgo.SessionTimeout(d))
	}
	if d, ok := ms("heartbeat.interval.ms"); ok && classic {
		g = append(g, kgo.HeartbeatInterval(d))
	}
	if d, ok := ms("max.poll.interval.ms"); ok {
		g = append(g, kgo.RebalanceTimeout(d))
	}
	if s.mode == "auto-commit" {
		if d, ok := ms("auto.commit.interval.ms"); ok {
			if d < time.Millisecond {
				d = time.Millisecond
			}
			g = append(g, kgo.AutoCommitInterval(d))
		}
	} else {
		ms("auto.commit.interval.ms")
		g = append(g, kgo.DisableAutoCommit())
	}
	if v, ok := conf["group.instance.id"]; ok && v != "" {
		s.instanceID = v
		g = append(g, kgo.InstanceID(v))
	}
	switch s.protocol {
	case "classic-cooperative":
		g = append(g, kgo.Balancers(kgo.CooperativeStickyBalancer()))
	case "classic-eager":
		balancers := []kgo.GroupBalancer{kgo.RangeBalancer()}
		if v, ok := conf["partition.assignment.strategy"]; ok {
			balancers = nil
			for _, name := range strings.Split(v, ",") {
				name = strings.TrimSpace(name)
				if name == "" {
					continue
				}
				b := balancerFor(name)
				if b == nil {
					bad("partition.assignment.strategy", "not range, roundrobin, sticky or cooperative-sticky")
					return
				}
				balancers = append(balancers, b)
			}
			if len(balancers) == 0 {
				bad("partition.assignment.strategy", "empty")
				return
			}
		}
		g = append(g, kgo.Balancers(balancers...))
	case "consumer":
		b := kgo.StickyBalancer() // server assignor "uniform", the broker's default
		if v, ok := conf["group.remote.assignor"]; ok {
			switch strings.ToLower(v) {
			case "range":
				b = kgo.RangeBalancer()
			case "uniform", "":
			default:
				bad("group.remote.assignor", "franz-go can ask only for range or uniform")
			}
		}
		g = append(g, kgo.Balancers(b), kgo.ServerSideBalancer())
	}
	for _, o := range g {
		add(o)
	}
}

func balancerFor(name string) kgo.GroupBalancer {
	n := strings.ToLower(name)
	switch {
	case n == "range" || strings.HasSuffix(n, ".rangeassignor"):
		return kgo.RangeBalancer()
	case n == "roundrobin" || strings.HasSuffix(n, ".roundrobinassignor"):
		return kgo.RoundRobinBalancer()
	case n == "cooperative-sticky" || strings.HasSuffix(n, ".cooperativestickyassignor"):
		return kgo.CooperativeStickyBalancer()
	case n == "sticky" || strings.HasSuffix(n, ".stickyassignor"):
		return kgo.StickyBalancer()
	}
	return nil
}

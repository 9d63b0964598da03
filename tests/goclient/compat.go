// Command aspen-goclient-compat drives etcd's own Go client (clientv3 and its
// concurrency package, etcd 3.4 from Debian's golang-etcd-server-dev) through
// a fixed list of scenarios against one endpoint list, and prints one JSON
// line per scenario:
//
//	{"scenario":"kv_get_options","steps":[{"op":"...","r":...},...]}
//
// Results are normalised so that two servers that behave the same print the
// same lines: revisions are relative to the revision at the start of the
// scenario, lease and member ids are reduced to "is set", TTLs to "in range",
// errors to the rpctypes name clientv3 maps them to (ErrCompacted, ...), or
// "code: message" when clientv3 knows no such error.
//
// tests/goclient/goclient_compat_test.cc runs it against Aspen and a real etcd
// and compares the lines step by step.
//
// Usage: aspen-goclient-compat -endpoints 127.0.0.1:2379[,...] [-scenarios a,b]
package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"io/ioutil"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"go.etcd.io/etcd/clientv3"
	"go.etcd.io/etcd/clientv3/concurrency"
	"go.etcd.io/etcd/clientv3/leasing"
	"go.etcd.io/etcd/clientv3/mirror"
	"go.etcd.io/etcd/clientv3/snapshot"
	"go.etcd.io/etcd/etcdserver/api/v3rpc/rpctypes"
	"go.etcd.io/etcd/mvcc/mvccpb"
	"go.uber.org/zap"
	"google.golang.org/grpc/grpclog"
	"google.golang.org/grpc/status"
)

// A scenario gets a fresh recorder and a context bounded by timeout.
type scenario struct {
	name    string
	timeout time.Duration
	run     func(ctx context.Context, s *rec)
}

type step struct {
	Op string      `json:"op"`
	R  interface{} `json:"r"`
}

// rec collects the normalised steps of one scenario. A scenario that hangs is
// abandoned while its goroutine may still add steps, hence the mutex.
type rec struct {
	cli, cli2 *clientv3.Client
	endpoint  string // the first endpoint, for Maintenance.Status
	base      int64  // store revision when the scenario started
	mu        sync.Mutex
	steps     []step
}

func (s *rec) add(op string, r interface{}) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.steps = append(s.steps, step{op, r})
}

func (s *rec) snapshot() []step {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]step(nil), s.steps...)
}

// rel maps a revision to its offset from the scenario's base (0 stays 0: "none").
func (s *rec) rel(rev int64) int64 {
	if rev == 0 {
		return 0
	}
	return rev - s.base
}

func (s *rec) abs(offset int64) int64 { return s.base + offset }

var knownErrors = map[error]string{}

func init() {
	for name, e := range map[string]error{
		"ErrEmptyKey": rpctypes.ErrEmptyKey, "ErrKeyNotFound": rpctypes.ErrKeyNotFound,
		"ErrValueProvided": rpctypes.ErrValueProvided, "ErrLeaseProvided": rpctypes.ErrLeaseProvided,
		"ErrTooManyOps": rpctypes.ErrTooManyOps, "ErrDuplicateKey": rpctypes.ErrDuplicateKey,
		"ErrCompacted": rpctypes.ErrCompacted, "ErrFutureRev": rpctypes.ErrFutureRev,
		"ErrNoSpace": rpctypes.ErrNoSpace, "ErrLeaseNotFound": rpctypes.ErrLeaseNotFound,
		"ErrLeaseExist": rpctypes.ErrLeaseExist, "ErrLeaseTTLTooLarge": rpctypes.ErrLeaseTTLTooLarge,
		"ErrMemberNotFound": rpctypes.ErrMemberNotFound, "ErrPeerURLExist": rpctypes.ErrPeerURLExist,
		"ErrMemberLearnerNotReady":  rpctypes.ErrMemberLearnerNotReady,
		"ErrMemberNotLearner":       rpctypes.ErrMemberNotLearner,
		"ErrBadLeaderTransferee":    rpctypes.ErrBadLeaderTransferee,
		"ErrMemberNotEnoughStarted": rpctypes.ErrMemberNotEnoughStarted, "ErrRequestTooLarge": rpctypes.ErrRequestTooLarge,
		"ErrTooManyRequests": rpctypes.ErrTooManyRequests, "ErrNoLeader": rpctypes.ErrNoLeader,
		"ErrNotLeader": rpctypes.ErrNotLeader, "ErrLeaderChanged": rpctypes.ErrLeaderChanged,
		"ErrNotCapable": rpctypes.ErrNotCapable, "ErrStopped": rpctypes.ErrStopped,
		"ErrTimeout": rpctypes.ErrTimeout, "ErrUnhealthy": rpctypes.ErrUnhealthy,
		"ErrElectionNoLeader":      concurrency.ErrElectionNoLeader,
		"ErrElectionNotLeader":     concurrency.ErrElectionNotLeader,
		"context.DeadlineExceeded": context.DeadlineExceeded,
		"context.Canceled":         context.Canceled,
	} {
		knownErrors[e] = name
	}
}

// errName is the normalised form of an error clientv3 returned ("" for nil).
func errName(err error) string {
	if err == nil {
		return ""
	}
	if name, ok := knownErrors[err]; ok {
		return name
	}
	if name, ok := knownErrors[rpctypes.Error(err)]; ok {
		return name
	}
	if st, ok := status.FromError(err); ok {
		return st.Code().String() + ": " + st.Message()
	}
	return "error: " + err.Error()
}

// text shows bytes as a string when they are UTF-8 (JSON would replace
// other bytes with U+FFFD), as "hex:..." otherwise.
func text(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	return "hex:" + hex.EncodeToString(b)
}

func (s *rec) kv(kv *mvccpb.KeyValue) map[string]interface{} {
	if kv == nil {
		return nil
	}
	return map[string]interface{}{
		"k": text(kv.Key), "v": text(kv.Value), "create": s.rel(kv.CreateRevision),
		"mod": s.rel(kv.ModRevision), "ver": kv.Version, "lease": kv.Lease != 0,
	}
}

func (s *rec) kvs(list []*mvccpb.KeyValue) []interface{} {
	out := []interface{}{}
	for _, kv := range list {
		out = append(out, s.kv(kv))
	}
	return out
}

func (s *rec) get(resp *clientv3.GetResponse, err error) interface{} {
	if err != nil {
		return map[string]interface{}{"err": errName(err)}
	}
	return map[string]interface{}{"rev": s.rel(resp.Header.Revision), "kvs": s.kvs(resp.Kvs),
		"more": resp.More, "count": resp.Count}
}

func (s *rec) put(resp *clientv3.PutResponse, err error) interface{} {
	if err != nil {
		return map[string]interface{}{"err": errName(err)}
	}
	return map[string]interface{}{"rev": s.rel(resp.Header.Revision), "prev": s.kv(resp.PrevKv)}
}

func (s *rec) del(resp *clientv3.DeleteResponse, err error) interface{} {
	if err != nil {
		return map[string]interface{}{"err": errName(err)}
	}
	return map[string]interface{}{"rev": s.rel(resp.Header.Revision), "deleted": resp.Deleted,
		"prev": s.kvs(resp.PrevKvs)}
}

func (s *rec) txn(resp *clientv3.TxnResponse, err error) interface{} {
	if err != nil {
		return map[string]interface{}{"err": errName(err)}
	}
	ops := []interface{}{}
	for _, r := range resp.Responses {
		switch {
		case r.GetResponseRange() != nil:
			ops = append(ops, map[string]interface{}{"get": s.get((*clientv3.GetResponse)(r.GetResponseRange()), nil)})
		case r.GetResponsePut() != nil:
			ops = append(ops, map[string]interface{}{"put": s.put((*clientv3.PutResponse)(r.GetResponsePut()), nil)})
		case r.GetResponseDeleteRange() != nil:
			ops = append(ops, map[string]interface{}{"del": s.del((*clientv3.DeleteResponse)(r.GetResponseDeleteRange()), nil)})
		case r.GetResponseTxn() != nil:
			ops = append(ops, map[string]interface{}{"txn": s.txn((*clientv3.TxnResponse)(r.GetResponseTxn()), nil)})
		default:
			ops = append(ops, "empty response op")
		}
	}
	return map[string]interface{}{"rev": s.rel(resp.Header.Revision), "ok": resp.Succeeded, "ops": ops}
}

func (s *rec) event(ev *clientv3.Event) map[string]interface{} {
	return map[string]interface{}{"type": ev.Type.String(), "kv": s.kv(ev.Kv), "prev": s.kv(ev.PrevKv)}
}

// watchN reads events from wch until n arrived (or the channel closed, or
// the deadline), then waits `settle` for unexpected extra events.
func (s *rec) watchN(ctx context.Context, wch clientv3.WatchChan, n int, settle time.Duration) interface{} {
	events := []interface{}{}
	var errs []string
	compactRev := int64(0)
	closed := false
	deadline := time.After(5 * time.Second)
	var extra <-chan time.Time
loop:
	for {
		select {
		case resp, ok := <-wch:
			if !ok {
				closed = true
				break loop
			}
			if err := resp.Err(); err != nil {
				errs = append(errs, errName(err))
			}
			if resp.CompactRevision != 0 {
				compactRev = s.rel(resp.CompactRevision)
			}
			for _, ev := range resp.Events {
				events = append(events, s.event(ev))
			}
			if len(events) >= n && extra == nil {
				extra = time.After(settle)
			}
		case <-extra:
			break loop
		case <-deadline:
			errs = append(errs, "test: no more events within 5s")
			break loop
		case <-ctx.Done():
			errs = append(errs, "test: scenario deadline")
			break loop
		}
	}
	return map[string]interface{}{"events": events, "errs": errs, "compact_rev": compactRev, "closed": closed}
}

// ---------------------------------------------------------------------------
// Scenarios. Each works under its own key prefix.

func kvGetOptions(ctx context.Context, s *rec) {
	c := s.cli
	for i, kv := range [][2]string{{"kv/a", "1"}, {"kv/b", "2"}, {"kv/c", "3"}, {"kv/d", "4"}} {
		s.add(fmt.Sprintf("put %d", i), s.put(c.Put(ctx, kv[0], kv[1])))
	}
	s.add("put kv/a prevkv", s.put(c.Put(ctx, "kv/a", "11", clientv3.WithPrevKV())))
	s.add("put kv/e prevkv (new)", s.put(c.Put(ctx, "kv/e", "0", clientv3.WithPrevKV())))
	s.add("get kv/a", s.get(c.Get(ctx, "kv/a")))
	s.add("get missing", s.get(c.Get(ctx, "kv/zz")))
	s.add("get prefix", s.get(c.Get(ctx, "kv/", clientv3.WithPrefix())))
	s.add("get range b..d", s.get(c.Get(ctx, "kv/b", clientv3.WithRange("kv/d"))))
	s.add("get fromkey limit 3", s.get(c.Get(ctx, "kv/c", clientv3.WithFromKey(), clientv3.WithLimit(3))))
	s.add("get prefix limit 2", s.get(c.Get(ctx, "kv/", clientv3.WithPrefix(), clientv3.WithLimit(2))))
	s.add("get prefix limit 5", s.get(c.Get(ctx, "kv/", clientv3.WithPrefix(), clientv3.WithLimit(5))))
	sorts := []struct {
		name   string
		target clientv3.SortTarget
		order  clientv3.SortOrder
	}{
		{"key desc", clientv3.SortByKey, clientv3.SortDescend},
		{"value asc", clientv3.SortByValue, clientv3.SortAscend},
		{"value desc", clientv3.SortByValue, clientv3.SortDescend},
		{"version desc", clientv3.SortByVersion, clientv3.SortDescend},
		{"create asc", clientv3.SortByCreateRevision, clientv3.SortAscend},
		{"create desc", clientv3.SortByCreateRevision, clientv3.SortDescend},
		{"mod desc", clientv3.SortByModRevision, clientv3.SortDescend},
		{"mod none", clientv3.SortByModRevision, clientv3.SortNone},
	}
	for _, so := range sorts {
		s.add("get prefix sort "+so.name, s.get(c.Get(ctx, "kv/", clientv3.WithPrefix(), clientv3.WithSort(so.target, so.order))))
	}
	s.add("get prefix sort mod desc limit 2", s.get(c.Get(ctx, "kv/", clientv3.WithPrefix(),
		clientv3.WithSort(clientv3.SortByModRevision, clientv3.SortDescend), clientv3.WithLimit(2))))
	s.add("get lastcreate", s.get(c.Get(ctx, "kv/", append(clientv3.WithLastCreate(), clientv3.WithPrefix())...)))
	s.add("get firstkey", s.get(c.Get(ctx, "kv/", append(clientv3.WithFirstKey(), clientv3.WithPrefix())...)))
	s.add("get kv/a rev base+1", s.get(c.Get(ctx, "kv/a", clientv3.WithRev(s.abs(1)))))
	s.add("get prefix rev base+3", s.get(c.Get(ctx, "kv/", clientv3.WithPrefix(), clientv3.WithRev(s.abs(3)))))
	s.add("get prefix rev base+5 limit 1", s.get(c.Get(ctx, "kv/", clientv3.WithPrefix(), clientv3.WithRev(s.abs(5)), clientv3.WithLimit(1))))
	s.add("get prefix countonly", s.get(c.Get(ctx, "kv/", clientv3.WithPrefix(), clientv3.WithCountOnly())))
	s.add("get prefix keysonly", s.get(c.Get(ctx, "kv/", clientv3.WithPrefix(), clientv3.WithKeysOnly())))
	s.add("get prefix keysonly sort value desc", s.get(c.Get(ctx, "kv/", clientv3.WithPrefix(), clientv3.WithKeysOnly(),
		clientv3.WithSort(clientv3.SortByValue, clientv3.SortDescend))))
	s.add("get prefix keysonly sort value asc limit 2", s.get(c.Get(ctx, "kv/", clientv3.WithPrefix(), clientv3.WithKeysOnly(),
		clientv3.WithSort(clientv3.SortByValue, clientv3.SortAscend), clientv3.WithLimit(2))))
	s.add("get prefix keysonly sort value desc rev base+4", s.get(c.Get(ctx, "kv/", clientv3.WithPrefix(), clientv3.WithKeysOnly(),
		clientv3.WithSort(clientv3.SortByValue, clientv3.SortDescend), clientv3.WithRev(s.abs(4)))))
	s.add("get prefix keysonly countonly", s.get(c.Get(ctx, "kv/", clientv3.WithPrefix(), clientv3.WithKeysOnly(), clientv3.WithCountOnly())))
	s.add("get prefix serializable", s.get(c.Get(ctx, "kv/", clientv3.WithPrefix(), clientv3.WithSerializable())))
	s.add("get prefix minmod base+3", s.get(c.Get(ctx, "kv/", clientv3.WithPrefix(), clientv3.WithMinModRev(s.abs(3)))))
	s.add("get prefix maxmod base+3", s.get(c.Get(ctx, "kv/", clientv3.WithPrefix(), clientv3.WithMaxModRev(s.abs(3)))))
	s.add("get prefix mincreate base+2", s.get(c.Get(ctx, "kv/", clientv3.WithPrefix(), clientv3.WithMinCreateRev(s.abs(2)))))
	s.add("get prefix maxcreate base+2", s.get(c.Get(ctx, "kv/", clientv3.WithPrefix(), clientv3.WithMaxCreateRev(s.abs(2)))))
	s.add("get prefix minmod limit 1", s.get(c.Get(ctx, "kv/", clientv3.WithPrefix(), clientv3.WithMinModRev(s.abs(3)), clientv3.WithLimit(1))))
	s.add("get prefix minmod countonly", s.get(c.Get(ctx, "kv/", clientv3.WithPrefix(), clientv3.WithMinModRev(s.abs(3)), clientv3.WithCountOnly())))
	s.add("get prefix rev -1", s.get(c.Get(ctx, "kv/", clientv3.WithPrefix(), clientv3.WithRev(-1))))
	s.add("get prefix limit -1", s.get(c.Get(ctx, "kv/", clientv3.WithPrefix(), clientv3.WithLimit(-1))))
	s.add("get prefix rev base+5 minmod base+2", s.get(c.Get(ctx, "kv/", clientv3.WithPrefix(), clientv3.WithRev(s.abs(5)), clientv3.WithMinModRev(s.abs(2)))))
	s.add("get prefix sort key asc limit 2", s.get(c.Get(ctx, "kv/", clientv3.WithPrefix(), clientv3.WithSort(clientv3.SortByKey, clientv3.SortAscend), clientv3.WithLimit(2))))
	s.add("get prefix sort version asc rev base+5", s.get(c.Get(ctx, "kv/", clientv3.WithPrefix(), clientv3.WithSort(clientv3.SortByVersion, clientv3.SortAscend), clientv3.WithRev(s.abs(5)))))
	s.add("get range end before key", s.get(c.Get(ctx, "kv/d", clientv3.WithRange("kv/b"))))
	s.add("get range key = end", s.get(c.Get(ctx, "kv/b", clientv3.WithRange("kv/b"))))
	s.add("get empty key", s.get(c.Get(ctx, "")))
	s.add("get all keys from kv/ countonly", s.get(c.Get(ctx, "kv/", clientv3.WithFromKey(), clientv3.WithCountOnly(), clientv3.WithRange("kv0"))))
}

func kvPutDelete(ctx context.Context, s *rec) {
	c := s.cli
	s.add("put kv2/a", s.put(c.Put(ctx, "kv2/a", "1")))
	s.add("put kv2/a ignore value", s.put(c.Put(ctx, "kv2/a", "", clientv3.WithIgnoreValue(), clientv3.WithPrevKV())))
	s.add("get kv2/a", s.get(c.Get(ctx, "kv2/a")))
	s.add("put missing ignore value", s.put(c.Put(ctx, "kv2/missing", "", clientv3.WithIgnoreValue())))
	s.add("put value with ignore value", s.put(c.Put(ctx, "kv2/a", "x", clientv3.WithIgnoreValue())))
	s.add("put kv2/a ignore lease", s.put(c.Put(ctx, "kv2/a", "2", clientv3.WithIgnoreLease())))
	s.add("put missing ignore lease", s.put(c.Put(ctx, "kv2/missing", "2", clientv3.WithIgnoreLease())))
	s.add("put empty key", s.put(c.Put(ctx, "", "v")))
	s.add("put empty value", s.put(c.Put(ctx, "kv2/empty", "")))
	s.add("get empty value", s.get(c.Get(ctx, "kv2/empty")))
	s.add("put binary key", s.put(c.Put(ctx, "kv2/\x00\xff", "\x01")))
	s.add("get binary key", s.get(c.Get(ctx, "kv2/\x00\xff")))
	for _, k := range []string{"kv2/b", "kv2/c", "kv2/d", "kv2/e"} {
		s.add("put "+k, s.put(c.Put(ctx, k, k)))
	}
	s.add("delete kv2/a prevkv", s.del(c.Delete(ctx, "kv2/a", clientv3.WithPrevKV())))
	s.add("delete kv2/a again", s.del(c.Delete(ctx, "kv2/a")))
	s.add("delete range b..d prevkv", s.del(c.Delete(ctx, "kv2/b", clientv3.WithRange("kv2/d"), clientv3.WithPrevKV())))
	s.add("delete empty key", s.del(c.Delete(ctx, "")))
	s.add("delete prefix", s.del(c.Delete(ctx, "kv2/", clientv3.WithPrefix())))
	s.add("get prefix after", s.get(c.Get(ctx, "kv2/", clientv3.WithPrefix())))
	s.add("put kv2/a again", s.put(c.Put(ctx, "kv2/a", "new", clientv3.WithPrevKV())))
	s.add("get kv2/a recreated", s.get(c.Get(ctx, "kv2/a")))
	s.add("put \\xff\\xffk", s.put(c.Put(ctx, "\xff\xffk", "hi")))
	s.add("get prefix \\xff", s.get(c.Get(ctx, "\xff", clientv3.WithPrefix())))
	s.add("get from-key \\xff\\xff", s.get(c.Get(ctx, "\xff\xff", clientv3.WithFromKey())))
	s.add("delete prefix \\xff prevkv", s.del(c.Delete(ctx, "\xff", clientv3.WithPrefix(), clientv3.WithPrevKV())))
	s.add("put kv2/v", s.put(c.Put(ctx, "kv2/v", "1")))
	s.add("delete kv2/v", s.del(c.Delete(ctx, "kv2/v")))
	s.add("put kv2/v again", s.put(c.Put(ctx, "kv2/v", "2", clientv3.WithPrevKV())))
	s.add("get kv2/v (version restarts)", s.get(c.Get(ctx, "kv2/v")))
	s.add("txn version = 1 after recreate", s.txn(c.Txn(ctx).If(clientv3.Compare(clientv3.Version("kv2/v"), "=", 1)).Commit()))
	s.add("1 MiB value", s.put(c.Put(ctx, "kv2/big", strings.Repeat("v", 1<<20))))
	r, err := c.Get(ctx, "kv2/big")
	if err != nil {
		s.add("get 1 MiB value", errName(err))
	} else if len(r.Kvs) == 1 {
		s.add("get 1 MiB value", len(r.Kvs[0].Value))
	} else {
		s.add("get 1 MiB value", fmt.Sprintf("%d kvs", len(r.Kvs)))
	}
	s.add("delete big", s.del(c.Delete(ctx, "kv2/big")))
}

func txnCompares(ctx context.Context, s *rec) {
	c := s.cli
	s.add("put a", s.put(c.Put(ctx, "txn/a", "10")))
	s.add("put b", s.put(c.Put(ctx, "txn/b", "20")))
	s.add("put a again", s.put(c.Put(ctx, "txn/a", "11")))
	type cmpCase struct {
		name string
		cmps []clientv3.Cmp
	}
	cases := []cmpCase{
		{"value = 11", []clientv3.Cmp{clientv3.Compare(clientv3.Value("txn/a"), "=", "11")}},
		{"value = 10", []clientv3.Cmp{clientv3.Compare(clientv3.Value("txn/a"), "=", "10")}},
		{"value != 10", []clientv3.Cmp{clientv3.Compare(clientv3.Value("txn/a"), "!=", "10")}},
		{"value > 2", []clientv3.Cmp{clientv3.Compare(clientv3.Value("txn/b"), ">", "2")}},
		{"value < 2", []clientv3.Cmp{clientv3.Compare(clientv3.Value("txn/b"), "<", "2")}},
		{"value missing = empty", []clientv3.Cmp{clientv3.Compare(clientv3.Value("txn/none"), "=", "")}},
		{"value missing != x", []clientv3.Cmp{clientv3.Compare(clientv3.Value("txn/none"), "!=", "x")}},
		{"version = 2", []clientv3.Cmp{clientv3.Compare(clientv3.Version("txn/a"), "=", 2)}},
		{"version > 2", []clientv3.Cmp{clientv3.Compare(clientv3.Version("txn/a"), ">", 2)}},
		{"version missing = 0", []clientv3.Cmp{clientv3.Compare(clientv3.Version("txn/none"), "=", 0)}},
		{"create = base+1", []clientv3.Cmp{clientv3.Compare(clientv3.CreateRevision("txn/a"), "=", s.abs(1))}},
		{"create < base+2", []clientv3.Cmp{clientv3.Compare(clientv3.CreateRevision("txn/b"), "<", s.abs(2))}},
		{"create missing = 0", []clientv3.Cmp{clientv3.Compare(clientv3.CreateRevision("txn/none"), "=", 0)}},
		{"mod = base+3", []clientv3.Cmp{clientv3.Compare(clientv3.ModRevision("txn/a"), "=", s.abs(3))}},
		{"mod > base+3", []clientv3.Cmp{clientv3.Compare(clientv3.ModRevision("txn/a"), ">", s.abs(3))}},
		{"mod missing < 1", []clientv3.Cmp{clientv3.Compare(clientv3.ModRevision("txn/none"), "<", 1)}},
		{"lease = none", []clientv3.Cmp{clientv3.Compare(clientv3.LeaseValue("txn/a"), "=", clientv3.NoLease)}},
		{"lease != none", []clientv3.Cmp{clientv3.Compare(clientv3.LeaseValue("txn/a"), "!=", clientv3.NoLease)}},
		{"lease missing = none", []clientv3.Cmp{clientv3.Compare(clientv3.LeaseValue("txn/none"), "=", clientv3.NoLease)}},
		{"two true", []clientv3.Cmp{clientv3.Compare(clientv3.Version("txn/a"), "=", 2),
			clientv3.Compare(clientv3.Version("txn/b"), "=", 1)}},
		{"true and false", []clientv3.Cmp{clientv3.Compare(clientv3.Version("txn/a"), "=", 2),
			clientv3.Compare(clientv3.Version("txn/b"), "=", 2)}},
		{"prefix version > 0", []clientv3.Cmp{clientv3.Compare(clientv3.Version("txn/"), ">", 0).WithPrefix()}},
		{"prefix version = 1", []clientv3.Cmp{clientv3.Compare(clientv3.Version("txn/"), "=", 1).WithPrefix()}},
		{"range value < 3", []clientv3.Cmp{clientv3.Compare(clientv3.Value("txn/a"), "<", "3").WithRange("txn/c")}},
		{"empty range mod = 0", []clientv3.Cmp{clientv3.Compare(clientv3.ModRevision("txn/x"), "=", 0).WithRange("txn/y")}},
		{"no compares", nil},
	}
	for _, cc := range cases {
		s.add("txn "+cc.name, s.txn(c.Txn(ctx).If(cc.cmps...).
			Then(clientv3.OpGet("txn/a")).Else(clientv3.OpGet("txn/b", clientv3.WithKeysOnly())).Commit()))
	}
	s.add("txn put+get+delete", s.txn(c.Txn(ctx).If(clientv3.Compare(clientv3.Value("txn/a"), "=", "11")).
		Then(clientv3.OpPut("txn/c", "30", clientv3.WithPrevKV()), clientv3.OpPut("txn/a", "12", clientv3.WithPrevKV()),
			clientv3.OpGet("txn/", clientv3.WithPrefix(), clientv3.WithSort(clientv3.SortByValue, clientv3.SortDescend)),
			clientv3.OpDelete("txn/b", clientv3.WithPrevKV())).
		Else(clientv3.OpGet("txn/a")).Commit()))
	s.add("get after txn", s.get(c.Get(ctx, "txn/", clientv3.WithPrefix())))
	s.add("txn else writes", s.txn(c.Txn(ctx).If(clientv3.Compare(clientv3.Value("txn/a"), "=", "nope")).
		Then(clientv3.OpPut("txn/then", "t")).
		Else(clientv3.OpPut("txn/else", "e"), clientv3.OpGet("txn/", clientv3.WithPrefix(), clientv3.WithCountOnly())).Commit()))
	s.add("txn nested", s.txn(c.Txn(ctx).If(clientv3.Compare(clientv3.Version("txn/else"), "=", 1)).
		Then(clientv3.OpTxn([]clientv3.Cmp{clientv3.Compare(clientv3.Value("txn/c"), "=", "30")},
			[]clientv3.Op{clientv3.OpPut("txn/n1", "1"), clientv3.OpTxn(nil, []clientv3.Op{clientv3.OpPut("txn/n2", "2")}, nil)},
			[]clientv3.Op{clientv3.OpGet("txn/c")}),
			clientv3.OpGet("txn/c")).Commit()))
	s.add("txn nested else", s.txn(c.Txn(ctx).
		Then(clientv3.OpTxn([]clientv3.Cmp{clientv3.Compare(clientv3.Value("txn/c"), "=", "31")},
			[]clientv3.Op{clientv3.OpPut("txn/n3", "3")},
			[]clientv3.Op{clientv3.OpDelete("txn/n", clientv3.WithPrefix(), clientv3.WithPrevKV())})).Commit()))
	s.add("get after nested", s.get(c.Get(ctx, "txn/", clientv3.WithPrefix())))
	s.add("txn read only", s.txn(c.Txn(ctx).Then(clientv3.OpGet("txn/a"), clientv3.OpGet("txn/c")).Commit()))
	s.add("txn put then get rev -1", s.txn(c.Txn(ctx).Then(clientv3.OpPut("txn/neg", "1"),
		clientv3.OpGet("txn/neg", clientv3.WithRev(-1))).Commit()))
	s.add("txn get rev", s.txn(c.Txn(ctx).Then(clientv3.OpGet("txn/a", clientv3.WithRev(s.abs(1)))).Commit()))
	s.add("txn empty", s.txn(c.Txn(ctx).Commit()))
	s.add("txn empty range value = empty", s.txn(c.Txn(ctx).If(clientv3.Compare(clientv3.Value("txn/x"), "=", "").WithRange("txn/y")).Commit()))
	s.add("txn prefix value > empty", s.txn(c.Txn(ctx).If(clientv3.Compare(clientv3.Value("txn/"), ">", "").WithPrefix()).Commit()))
	s.add("txn prefix lease = none", s.txn(c.Txn(ctx).If(clientv3.Compare(clientv3.LeaseValue("txn/"), "=", clientv3.NoLease).WithPrefix()).Commit()))
	s.add("txn fromkey create > 0", s.txn(c.Txn(ctx).If(clientv3.Compare(clientv3.CreateRevision("txn/"), ">", 0).WithRange("\x00")).Commit()))
	s.add("txn ignore value", s.txn(c.Txn(ctx).Then(clientv3.OpPut("txn/a", "", clientv3.WithIgnoreValue(), clientv3.WithPrevKV()),
		clientv3.OpGet("txn/a")).Commit()))
	s.add("txn ignore value missing", s.txn(c.Txn(ctx).Then(clientv3.OpPut("txn/none", "", clientv3.WithIgnoreValue())).Commit()))
	s.add("txn get options", s.txn(c.Txn(ctx).Then(
		clientv3.OpGet("txn/", clientv3.WithPrefix(), clientv3.WithLimit(1), clientv3.WithSort(clientv3.SortByKey, clientv3.SortDescend)),
		clientv3.OpGet("txn/", clientv3.WithPrefix(), clientv3.WithCountOnly()),
		clientv3.OpGet("txn/", clientv3.WithPrefix(), clientv3.WithKeysOnly(), clientv3.WithMinModRev(s.abs(5))),
		clientv3.OpGet("txn/", clientv3.WithPrefix(), clientv3.WithRev(s.abs(3)))).Commit()))
	s.add("txn delete prefix prevkv then get", s.txn(c.Txn(ctx).Then(clientv3.OpDelete("txn/n", clientv3.WithPrefix(), clientv3.WithPrevKV()),
		clientv3.OpPut("txn/z", "z"), clientv3.OpGet("txn/", clientv3.WithPrefix(), clientv3.WithKeysOnly())).Commit()))
	s.add("txn delete missing", s.txn(c.Txn(ctx).Then(clientv3.OpDelete("txn/none")).Commit()))
	s.add("txn put same key in then and else", s.txn(c.Txn(ctx).If(clientv3.Compare(clientv3.Version("txn/a"), ">", 0)).
		Then(clientv3.OpPut("txn/a", "13")).Else(clientv3.OpPut("txn/a", "14")).Commit()))
}

func compaction(ctx context.Context, s *rec) {
	c := s.cli
	for i := 1; i <= 4; i++ {
		s.add(fmt.Sprintf("put v%d", i), s.put(c.Put(ctx, "cmp/k", fmt.Sprintf("v%d", i))))
	}
	s.add("get rev base+1", s.get(c.Get(ctx, "cmp/k", clientv3.WithRev(s.abs(1)))))
	compact := func(name string, rev int64, opts ...clientv3.CompactOption) {
		r, err := c.Compact(ctx, rev, opts...)
		if err != nil {
			s.add(name, map[string]interface{}{"err": errName(err)})
		} else {
			s.add(name, map[string]interface{}{"rev": s.rel(r.Header.Revision)})
		}
	}
	compact("compact base+3", s.abs(3))
	s.add("get rev base+1 after compact", s.get(c.Get(ctx, "cmp/k", clientv3.WithRev(s.abs(1)))))
	s.add("get rev base+2", s.get(c.Get(ctx, "cmp/k", clientv3.WithRev(s.abs(2)))))
	s.add("get rev base+3", s.get(c.Get(ctx, "cmp/k", clientv3.WithRev(s.abs(3)))))
	s.add("get rev base+4", s.get(c.Get(ctx, "cmp/k", clientv3.WithRev(s.abs(4)))))
	s.add("get current", s.get(c.Get(ctx, "cmp/k")))
	compact("compact base+2 (older)", s.abs(2))
	compact("compact base+3 (same)", s.abs(3))
	compact("compact future", s.abs(1000))
	compact("compact 0", 0)
	compact("compact -1", -1)
	compact("compact base+4 physical", s.abs(4), clientv3.WithCompactPhysical())
	s.add("get rev base+3 after physical", s.get(c.Get(ctx, "cmp/k", clientv3.WithRev(s.abs(3)))))
	s.add("get rev base+4 after physical", s.get(c.Get(ctx, "cmp/k", clientv3.WithRev(s.abs(4)))))
	s.add("txn get compacted rev", s.txn(c.Txn(ctx).Then(clientv3.OpGet("cmp/k", clientv3.WithRev(s.abs(1)))).Commit()))
	s.add("put v5", s.put(c.Put(ctx, "cmp/k", "v5")))
	s.add("get prefix countonly rev base+4", s.get(c.Get(ctx, "cmp/", clientv3.WithPrefix(), clientv3.WithRev(s.abs(4)), clientv3.WithCountOnly())))
}

func watchHistory(ctx context.Context, s *rec) {
	c := s.cli
	s.add("put w/a", s.put(c.Put(ctx, "w/a", "1")))                                                               // +1
	s.add("put w/b", s.put(c.Put(ctx, "w/b", "2")))                                                               // +2
	s.add("delete w/a", s.del(c.Delete(ctx, "w/a")))                                                              // +3
	s.add("put w/a", s.put(c.Put(ctx, "w/a", "3")))                                                               // +4
	s.add("put w/c", s.put(c.Put(ctx, "w/c", "4")))                                                               // +5
	s.add("delete w/ prefix", s.del(c.Delete(ctx, "w/", clientv3.WithPrefix())))                                  // +6
	s.add("txn w/d w/e", s.txn(c.Txn(ctx).Then(clientv3.OpPut("w/d", "5"), clientv3.OpPut("w/e", "6")).Commit())) // +7
	settle := 150 * time.Millisecond
	watch := func(name string, n int, key string, opts ...clientv3.OpOption) {
		wctx, cancel := context.WithCancel(ctx)
		defer cancel()
		s.add(name, s.watchN(wctx, c.Watch(wctx, key, opts...), n, settle))
	}
	watch("prefix from base+1 prevkv", 10, "w/", clientv3.WithPrefix(), clientv3.WithRev(s.abs(1)), clientv3.WithPrevKV())
	watch("key w/a from base+1", 4, "w/a", clientv3.WithRev(s.abs(1)))
	watch("prefix no delete", 6, "w/", clientv3.WithPrefix(), clientv3.WithRev(s.abs(1)), clientv3.WithFilterDelete())
	watch("prefix no put", 4, "w/", clientv3.WithPrefix(), clientv3.WithRev(s.abs(1)), clientv3.WithFilterPut())
	watch("range a..c from base+2", 4, "w/a", clientv3.WithRange("w/c"), clientv3.WithRev(s.abs(2)))
	watch("prefix from base+7", 2, "w/", clientv3.WithPrefix(), clientv3.WithRev(s.abs(7)), clientv3.WithPrevKV())

	// A compacted start revision: the watch is canceled with CompactRevision.
	r, err := c.Compact(ctx, s.abs(4))
	if err != nil {
		s.add("compact base+4", errName(err))
	} else {
		s.add("compact base+4", s.rel(r.Header.Revision))
	}
	watch("prefix from compacted base+2", 0, "w/", clientv3.WithPrefix(), clientv3.WithRev(s.abs(2)))
	watch("prefix from base+4 (the compaction point) prevkv", 6, "w/", clientv3.WithPrefix(), clientv3.WithRev(s.abs(4)), clientv3.WithPrevKV())
	watch("prefix from compacted base+3 prevkv", 0, "w/", clientv3.WithPrefix(), clientv3.WithRev(s.abs(3)), clientv3.WithPrevKV())
}

func watchLive(ctx context.Context, s *rec) {
	c := s.cli
	s.add("put wl/seed", s.put(c.Put(ctx, "wl/seed", "0")))
	wctx, cancel := context.WithCancel(ctx)
	wch := c.Watch(wctx, "wl/", clientv3.WithPrefix(), clientv3.WithCreatedNotify(), clientv3.WithPrevKV())
	select {
	case resp := <-wch:
		s.add("created notify", map[string]interface{}{"created": resp.Created, "rev": s.rel(resp.Header.Revision),
			"events": len(resp.Events), "err": errName(resp.Err())})
	case <-time.After(5 * time.Second):
		s.add("created notify", "none within 5s")
	}
	wch2 := c.Watch(wctx, "wl/b", clientv3.WithFilterPut(), clientv3.WithPrevKV())
	s.add("put wl/a", s.put(c.Put(ctx, "wl/a", "1")))
	s.add("put wl/b", s.put(c.Put(ctx, "wl/b", "2")))
	s.add("delete wl/b", s.del(c.Delete(ctx, "wl/b")))
	s.add("live events", s.watchN(wctx, wch, 3, 100*time.Millisecond))
	s.add("live delete-only events", s.watchN(wctx, wch2, 1, 100*time.Millisecond))

	// RequestProgress: every watcher on the stream gets a progress notify
	// carrying the current revision.
	if err := c.RequestProgress(wctx); err != nil {
		s.add("request progress", errName(err))
	} else {
		select {
		case resp := <-wch:
			s.add("request progress", map[string]interface{}{"progress": resp.IsProgressNotify(),
				"rev": s.rel(resp.Header.Revision), "events": len(resp.Events)})
		case <-time.After(5 * time.Second):
			s.add("request progress", "no progress notify within 5s")
		}
	}
	// A watch opened with WithProgressNotify still delivers events.
	wch3 := c.Watch(wctx, "wl/p", clientv3.WithProgressNotify(), clientv3.WithRev(s.abs(1)))
	s.add("put wl/p", s.put(c.Put(ctx, "wl/p", "p")))
	s.add("progress-notify watch events", s.watchN(wctx, wch3, 1, 100*time.Millisecond))

	// A future start revision: nothing until that revision is written.
	wch4 := c.Watch(wctx, "wl/", clientv3.WithPrefix(), clientv3.WithRev(s.abs(7)))
	s.add("put wl/f1", s.put(c.Put(ctx, "wl/f1", "1"))) // +6
	s.add("put wl/f2", s.put(c.Put(ctx, "wl/f2", "2"))) // +7
	s.add("future start events", s.watchN(wctx, wch4, 1, 100*time.Millisecond))

	// Every key (the empty prefix), from now on.
	wch5 := c.Watch(wctx, "", clientv3.WithPrefix())
	wch6 := c.Watch(wctx, "wl/", clientv3.WithFromKey(), clientv3.WithFilterDelete())
	time.Sleep(50 * time.Millisecond) // both watches are registered before the write
	s.add("put wl/all", s.put(c.Put(ctx, "wl/all", "x")))
	s.add("all-keys watch", s.watchN(wctx, wch5, 1, 100*time.Millisecond))
	s.add("from-key watch", s.watchN(wctx, wch6, 1, 100*time.Millisecond))

	// A watch that requires a leader (clientv3 sends "hasleader" metadata).
	rctx, rcancel := context.WithCancel(clientv3.WithRequireLeader(wctx))
	wr := c.Watch(rctx, "wl/req")
	time.Sleep(50 * time.Millisecond)
	s.add("put wl/req", s.put(c.Put(ctx, "wl/req", "r")))
	s.add("require-leader watch", s.watchN(rctx, wr, 1, 100*time.Millisecond))
	rcancel()

	// Two watchers on one stream: cancelling one leaves the other.
	actx, acancel := context.WithCancel(wctx)
	wa := c.Watch(actx, "wl/two")
	wb := c.Watch(wctx, "wl/two")
	time.Sleep(50 * time.Millisecond)
	acancel()
	s.add("put wl/two", s.put(c.Put(ctx, "wl/two", "2")))
	s.add("cancelled watcher", s.watchN(wctx, wa, 0, 100*time.Millisecond))
	s.add("other watcher", s.watchN(wctx, wb, 1, 100*time.Millisecond))

	// Cancel: the channel closes.
	cancel()
	closed := func(ch clientv3.WatchChan) interface{} {
		for {
			select {
			case _, ok := <-ch:
				if !ok {
					return true
				}
			case <-time.After(5 * time.Second):
				return "still open 5s after cancel"
			}
		}
	}
	s.add("closed after cancel", closed(wch))
	s.add("closed after cancel (2)", closed(wch2))
}

func leaseOps(ctx context.Context, s *rec) {
	c := s.cli
	grant := func(name string, ttl int64) clientv3.LeaseID {
		r, err := c.Grant(ctx, ttl)
		if err != nil {
			s.add(name, map[string]interface{}{"err": errName(err)})
			return 0
		}
		s.add(name, map[string]interface{}{"ttl": r.TTL, "id_set": r.ID != 0, "rev": s.rel(r.ResponseHeader.Revision),
			"error": r.Error})
		return r.ID
	}
	ttl := func(name string, id clientv3.LeaseID, granted int64, opts ...clientv3.LeaseOption) {
		r, err := c.TimeToLive(ctx, id, opts...)
		if err != nil {
			s.add(name, map[string]interface{}{"err": errName(err)})
			return
		}
		keys := []string{}
		for _, k := range r.Keys {
			keys = append(keys, string(k))
		}
		sort.Strings(keys)
		ttlNorm := interface{}(r.TTL)
		if r.TTL > 0 && r.TTL <= granted && r.TTL >= granted-5 {
			ttlNorm = "in (granted-5, granted]"
		}
		s.add(name, map[string]interface{}{"ttl": ttlNorm, "granted": r.GrantedTTL, "keys": keys,
			"same_id": r.ID == id})
	}
	id := grant("grant 60", 60)
	s.add("put lease/a with lease", s.put(c.Put(ctx, "lease/a", "a", clientv3.WithLease(id))))
	s.add("put lease/b with lease", s.put(c.Put(ctx, "lease/b", "b", clientv3.WithLease(id))))
	s.add("get lease/a", s.get(c.Get(ctx, "lease/a")))
	ttl("timetolive keys", id, 60, clientv3.WithAttachedKeys())
	ttl("timetolive", id, 60)
	if r, err := c.Leases(ctx); err != nil {
		s.add("leases", errName(err))
	} else {
		found := false
		for _, l := range r.Leases {
			found = found || l.ID == id
		}
		s.add("leases", map[string]interface{}{"contains": found})
	}
	if r, err := c.KeepAliveOnce(ctx, id); err != nil {
		s.add("keepalive once", errName(err))
	} else {
		s.add("keepalive once", map[string]interface{}{"ttl": r.TTL, "same_id": r.ID == id})
	}
	kctx, kcancel := context.WithCancel(ctx)
	kch, err := c.KeepAlive(kctx, id)
	if err != nil {
		s.add("keepalive stream", errName(err))
	} else {
		select {
		case r, ok := <-kch:
			if !ok || r == nil {
				s.add("keepalive stream", "closed")
			} else {
				s.add("keepalive stream", map[string]interface{}{"ttl": r.TTL, "same_id": r.ID == id})
			}
		case <-time.After(5 * time.Second):
			s.add("keepalive stream", "no answer within 5s")
		}
	}
	kcancel()
	s.add("put ignore lease keeps lease", s.put(c.Put(ctx, "lease/a", "a2", clientv3.WithIgnoreLease())))
	s.add("get lease/a after ignore lease", s.get(c.Get(ctx, "lease/a")))
	s.add("put lease and ignore lease", s.put(c.Put(ctx, "lease/a", "a3", clientv3.WithLease(id), clientv3.WithIgnoreLease())))
	s.add("put unknown lease", s.put(c.Put(ctx, "lease/c", "c", clientv3.WithLease(0x7eadbeef))))
	s.add("txn put unknown lease", s.txn(c.Txn(ctx).Then(clientv3.OpPut("lease/c", "c", clientv3.WithLease(0x7eadbeef))).Commit()))
	s.add("put lease/b without lease", s.put(c.Put(ctx, "lease/b", "b2")))
	ttl("timetolive keys after detach", id, 60, clientv3.WithAttachedKeys())
	s.add("txn lease compare", s.txn(c.Txn(ctx).If(clientv3.Compare(clientv3.LeaseValue("lease/a"), "=", id)).
		Then(clientv3.OpGet("lease/a", clientv3.WithKeysOnly())).Commit()))
	if _, err := c.Revoke(ctx, id); err != nil {
		s.add("revoke", errName(err))
	} else {
		s.add("revoke", "ok")
	}
	s.add("get prefix after revoke", s.get(c.Get(ctx, "lease/", clientv3.WithPrefix())))
	if _, err := c.Revoke(ctx, id); err != nil {
		s.add("revoke again", errName(err))
	} else {
		s.add("revoke again", "ok")
	}
	ttl("timetolive revoked", id, 60)
	if _, err := c.KeepAliveOnce(ctx, id); err != nil {
		s.add("keepalive once revoked", errName(err))
	} else {
		s.add("keepalive once revoked", "ok")
	}
	kctx2, kcancel2 := context.WithCancel(ctx)
	kch2, err := c.KeepAlive(kctx2, id)
	if err != nil {
		s.add("keepalive stream revoked", errName(err))
	} else {
		select {
		case r, ok := <-kch2:
			if !ok || r == nil {
				s.add("keepalive stream revoked", "closed")
			} else {
				s.add("keepalive stream revoked", map[string]interface{}{"ttl": r.TTL})
			}
		case <-time.After(5 * time.Second):
			s.add("keepalive stream revoked", "still open after 5s")
		}
	}
	kcancel2()
	grant("grant too large ttl", 9000000001)
	grant("grant max ttl", 9000000000)
	ttl("timetolive never granted", 0x7eadbeef, 60)
	// A key moved from one lease to another belongs to the second only.
	la := grant("grant A", 60)
	lb := grant("grant B", 60)
	s.add("put lease/m with A", s.put(c.Put(ctx, "lease/m", "1", clientv3.WithLease(la))))
	s.add("put lease/n with A", s.put(c.Put(ctx, "lease/n", "1", clientv3.WithLease(la))))
	s.add("put lease/m with B prevkv", s.put(c.Put(ctx, "lease/m", "2", clientv3.WithLease(lb), clientv3.WithPrevKV())))
	s.add("delete lease/n", s.del(c.Delete(ctx, "lease/n")))
	ttl("A keys", la, 60, clientv3.WithAttachedKeys())
	ttl("B keys", lb, 60, clientv3.WithAttachedKeys())
	_, err = c.Revoke(ctx, la)
	s.add("revoke A", errName(err))
	s.add("get lease/m after revoking A", s.get(c.Get(ctx, "lease/m")))
	_, err = c.Revoke(ctx, lb)
	s.add("revoke B", errName(err))
	s.add("get lease/m after revoking B", s.get(c.Get(ctx, "lease/m")))
	if r, err := c.Leases(ctx); err != nil {
		s.add("leases after revoke", errName(err))
	} else {
		found := false
		for _, l := range r.Leases {
			found = found || l.ID == id
		}
		s.add("leases after revoke", map[string]interface{}{"contains": found})
	}

	// A lease kept alive by the KeepAlive stream outlives its TTL.
	kept := grant("grant 2 (kept alive)", 2)
	s.add("put lease/kept", s.put(c.Put(ctx, "lease/kept", "k", clientv3.WithLease(kept))))
	kctx3, kcancel3 := context.WithCancel(ctx)
	kch3, err := c.KeepAlive(kctx3, kept)
	if err != nil {
		s.add("keepalive 3.5s", errName(err))
	} else {
		answers, deadline := 0, time.After(3500*time.Millisecond)
	drain:
		for {
			select {
			case r, ok := <-kch3:
				if !ok {
					break drain
				}
				if r != nil && r.TTL == 2 {
					answers++
				}
			case <-deadline:
				break drain
			}
		}
		s.add("keepalive 3.5s", map[string]interface{}{"at_least_2_answers_ttl_2": answers >= 2})
	}
	s.add("get lease/kept after 3.5s", s.get(c.Get(ctx, "lease/kept", clientv3.WithKeysOnly())))
	kcancel3()

	// Expiry deletes the attached keys (and bumps the revision once per lease).
	for _, t := range []int64{0, -5} {
		if idt := grant(fmt.Sprintf("grant %d", t), t); idt != 0 {
			_, err := c.Revoke(ctx, idt)
			s.add(fmt.Sprintf("revoke ttl %d lease", t), errName(err))
		}
	}
	if id1 := grant("grant 1", 1); id1 != 0 {
		ttl("timetolive ttl-1 lease", id1, 2)
		_, err := c.Revoke(ctx, id1)
		s.add("revoke ttl-1 lease", errName(err))
	}
	short := grant("grant 3", 3)
	s.add("put lease/exp1", s.put(c.Put(ctx, "lease/exp1", "x", clientv3.WithLease(short))))
	s.add("put lease/exp2", s.put(c.Put(ctx, "lease/exp2", "y", clientv3.WithLease(short))))
	gone := "keys still there after 12s"
	for deadline := time.Now().Add(12 * time.Second); time.Now().Before(deadline); {
		r, err := c.Get(ctx, "lease/exp", clientv3.WithPrefix(), clientv3.WithCountOnly())
		if err == nil && r.Count == 0 {
			gone = "expired"
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	s.add("expiry", gone)
	if r, err := c.Get(ctx, "lease/exp2"); err == nil && len(r.Kvs) == 0 {
		// The keys of one lease go in one revision, as DELETE events.
		wctx, wcancel := context.WithCancel(ctx)
		wch := c.Watch(wctx, "lease/exp", clientv3.WithPrefix(), clientv3.WithRev(s.abs(8)), clientv3.WithPrevKV())
		s.add("expiry events", s.watchN(wctx, wch, 2, 100*time.Millisecond))
		wcancel()
	}
	s.add("history of expiry", s.get(c.Get(ctx, "lease/exp", clientv3.WithPrefix(), clientv3.WithCountOnly())))
	ttl("timetolive expired", short, 3)
}

// leaseRevokeElsewhere: a lease revoked through one client is never renewed
// by KeepAliveOnce, nor alive for TimeToLive, through the other right after
// (on a cluster the two clients' calls land on different members; the
// leader may have committed the revocation without having applied it yet).
func leaseRevokeElsewhere(ctx context.Context, s *rec) {
	const workers, rounds = 8, 50
	var mu sync.Mutex
	counts := map[string]int{}
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < rounds; i++ {
				outcome := "revoked, then not found"
				g, err := s.cli.Grant(ctx, 30)
				if err == nil {
					_, err = s.cli2.Revoke(ctx, g.ID)
				}
				if err != nil {
					outcome = "grant/revoke: " + errName(err)
				} else if _, err := s.cli.KeepAliveOnce(ctx, g.ID); err == nil {
					outcome = "revoked, then renewed"
				} else if err != rpctypes.ErrLeaseNotFound {
					outcome = "keepalive: " + errName(err)
				} else if r, err := s.cli.TimeToLive(ctx, g.ID); err != nil {
					outcome = "timetolive: " + errName(err)
				} else if r.TTL != -1 {
					outcome = "revoked, then alive"
				}
				mu.Lock()
				counts[outcome]++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	s.add("outcomes", counts)
}

func newSessions(ctx context.Context, s *rec) (*concurrency.Session, *concurrency.Session, bool) {
	s1, err := concurrency.NewSession(s.cli, concurrency.WithTTL(10), concurrency.WithContext(ctx))
	if err != nil {
		s.add("session 1", errName(err))
		return nil, nil, false
	}
	s2, err := concurrency.NewSession(s.cli2, concurrency.WithTTL(10), concurrency.WithContext(ctx))
	if err != nil {
		s1.Close()
		s.add("session 2", errName(err))
		return nil, nil, false
	}
	return s1, s2, true
}

func closeSession(ctx context.Context, s *rec, name string, ss *concurrency.Session) {
	id := ss.Lease()
	s.add("close "+name, errName(ss.Close()))
	r, err := s.cli.TimeToLive(ctx, id)
	if err != nil {
		s.add(name+" lease after close", errName(err))
	} else {
		s.add(name+" lease after close", r.TTL)
	}
}

func mutex(ctx context.Context, s *rec) {
	s1, s2, ok := newSessions(ctx, s)
	if !ok {
		return
	}
	m1 := concurrency.NewMutex(s1, "mtx/")
	m2 := concurrency.NewMutex(s2, "mtx/")
	s.add("m1 lock", errName(m1.Lock(ctx)))
	acquired := make(chan error, 1)
	go func() { acquired <- m2.Lock(ctx) }()
	select {
	case err := <-acquired:
		s.add("m2 waits while m1 holds", "acquired early: "+errName(err))
	case <-time.After(500 * time.Millisecond):
		s.add("m2 waits while m1 holds", true)
	}
	// A third contender gives up at its deadline.
	s3, err := concurrency.NewSession(s.cli, concurrency.WithTTL(10), concurrency.WithContext(ctx))
	if err == nil {
		m3 := concurrency.NewMutex(s3, "mtx/")
		tctx, tcancel := context.WithTimeout(ctx, 300*time.Millisecond)
		s.add("m3 lock with deadline", errName(m3.Lock(tctx)))
		tcancel()
		s3.Close()
	} else {
		s.add("session 3", errName(err))
	}
	r, err := s.cli.Get(ctx, "mtx/", clientv3.WithPrefix(), clientv3.WithCountOnly())
	s.add("waiters' keys", s.get(r, err))
	s.add("m1 unlock", errName(m1.Unlock(ctx)))
	select {
	case err := <-acquired:
		s.add("m2 acquires after unlock", errName(err))
	case <-time.After(5 * time.Second):
		s.add("m2 acquires after unlock", "not within 5s")
	}
	if r, err := s.cli.Get(ctx, "mtx/", clientv3.WithPrefix()); err == nil && len(r.Kvs) == 1 {
		s.add("holder key is m2's", string(r.Kvs[0].Key) == m2.Key())
	} else {
		s.add("holder key is m2's", s.get(r, err))
	}
	s.add("m2 unlock", errName(m2.Unlock(ctx)))
	r, err = s.cli.Get(ctx, "mtx/", clientv3.WithPrefix(), clientv3.WithCountOnly())
	s.add("keys after unlock", s.get(r, err))
	// Closing a session releases its lock.
	s.add("m1 lock again", errName(m1.Lock(ctx)))
	go func() { acquired <- m2.Lock(ctx) }()
	closeSession(ctx, s, "session 1", s1)
	select {
	case err := <-acquired:
		s.add("m2 acquires after session 1 closed", errName(err))
	case <-time.After(5 * time.Second):
		s.add("m2 acquires after session 1 closed", "not within 5s")
	}
	s.add("m2 unlock (2)", errName(m2.Unlock(ctx)))
	closeSession(ctx, s, "session 2", s2)
}

func election(ctx context.Context, s *rec) {
	s1, s2, ok := newSessions(ctx, s)
	if !ok {
		return
	}
	e1 := concurrency.NewElection(s1, "elect/")
	e2 := concurrency.NewElection(s2, "elect/")
	leader := func(name string, e *concurrency.Election) {
		r, err := e.Leader(ctx)
		if err != nil {
			s.add(name, errName(err))
		} else if len(r.Kvs) != 1 {
			s.add(name, fmt.Sprintf("%d kvs", len(r.Kvs)))
		} else {
			s.add(name, string(r.Kvs[0].Value))
		}
	}
	leader("leader before campaign", e1)
	s.add("e1 campaign", errName(e1.Campaign(ctx, "v1")))
	leader("leader after campaign", e2)
	octx, ocancel := context.WithCancel(ctx)
	defer ocancel()
	obs := e2.Observe(octx)
	observed := []string{}
	observe := func(until string) {
		timeout := time.After(5 * time.Second)
		for len(observed) == 0 || observed[len(observed)-1] != until {
			select {
			case r, ok := <-obs:
				if !ok {
					observed = append(observed, "<closed>")
					return
				}
				if len(r.Kvs) == 1 {
					v := string(r.Kvs[0].Value)
					if len(observed) == 0 || observed[len(observed)-1] != v {
						observed = append(observed, v)
					}
				}
			case <-timeout:
				observed = append(observed, "<timeout waiting for "+until+">")
				return
			}
		}
	}
	observe("v1")
	s.add("e1 proclaim", errName(e1.Proclaim(ctx, "v2")))
	observe("v2")
	leader("leader after proclaim", e1)
	won := make(chan error, 1)
	go func() { won <- e2.Campaign(ctx, "w1") }()
	select {
	case err := <-won:
		s.add("e2 campaign waits", "returned early: "+errName(err))
	case <-time.After(500 * time.Millisecond):
		s.add("e2 campaign waits", true)
	}
	s.add("e1 resign", errName(e1.Resign(ctx)))
	select {
	case err := <-won:
		s.add("e2 campaign after resign", errName(err))
	case <-time.After(5 * time.Second):
		s.add("e2 campaign after resign", "not within 5s")
	}
	observe("w1")
	s.add("observed", observed)
	leader("leader after resign", e1)
	s.add("e1 proclaim after resign", errName(e1.Proclaim(ctx, "x")))
	s.add("e2 proclaim", errName(e2.Proclaim(ctx, "w2")))
	leader("leader after e2 proclaim", e1)
	s.add("e2 resign", errName(e2.Resign(ctx)))
	leader("leader after all resigned", e1)
	closeSession(ctx, s, "session 1", s1)
	closeSession(ctx, s, "session 2", s2)
}

func stm(ctx context.Context, s *rec) {
	c := s.cli
	const workers, rounds = 4, 5
	run := func(name string, iso concurrency.Isolation) {
		s.add(name+" init", s.txn(c.Txn(ctx).Then(clientv3.OpPut("stm/"+name+"/x", "100"),
			clientv3.OpPut("stm/"+name+"/y", "0"), clientv3.OpPut("stm/"+name+"/n", "0")).Commit()))
		var wg sync.WaitGroup
		errs := make(chan string, workers*rounds)
		for w := 0; w < workers; w++ {
			cli := s.cli
			if w%2 == 1 {
				cli = s.cli2
			}
			wg.Add(1)
			go func(cli *clientv3.Client) {
				defer wg.Done()
				for i := 0; i < rounds; i++ {
					_, err := concurrency.NewSTM(cli, func(st concurrency.STM) error {
						var x, y, n int
						fmt.Sscan(st.Get("stm/"+name+"/x"), &x)
						fmt.Sscan(st.Get("stm/"+name+"/y"), &y)
						fmt.Sscan(st.Get("stm/"+name+"/n"), &n)
						st.Put("stm/"+name+"/x", fmt.Sprint(x-3))
						st.Put("stm/"+name+"/y", fmt.Sprint(y+3))
						st.Put("stm/"+name+"/n", fmt.Sprint(n+1))
						return nil
					}, concurrency.WithIsolation(iso), concurrency.WithAbortContext(ctx))
					if err != nil {
						errs <- errName(err)
					}
				}
			}(cli)
		}
		wg.Wait()
		close(errs)
		errList := []string{}
		for e := range errs {
			errList = append(errList, e)
		}
		s.add(name+" errors", errList)
		r, err := c.Get(ctx, "stm/"+name+"/", clientv3.WithPrefix())
		if err != nil {
			s.add(name+" final", errName(err))
			return
		}
		final := map[string]string{}
		for _, kv := range r.Kvs {
			final[string(kv.Key)] = string(kv.Value)
		}
		s.add(name+" final", final)
	}
	run("serializable", concurrency.Serializable)
	run("snapshot", concurrency.SerializableSnapshot)
	run("repeatable", concurrency.RepeatableReads)
}

func maintenance(ctx context.Context, s *rec) {
	c := s.cli
	st, err := c.Status(ctx, s.endpoint)
	if err != nil {
		s.add("status", errName(err))
	} else {
		parts := strings.SplitN(st.Version, ".", 3)
		majorMinor := st.Version
		if len(parts) >= 2 {
			majorMinor = parts[0] + "." + parts[1]
		}
		s.add("status", map[string]interface{}{
			"version":              majorMinor,
			"db_size_positive":     st.DbSize > 0,
			"in_use_le_size":       st.DbSizeInUse > 0 && st.DbSizeInUse <= st.DbSize,
			"leader_is_self":       st.Leader == st.Header.MemberId,
			"raft_index_positive":  st.RaftIndex > 0,
			"applied_le_index":     st.RaftAppliedIndex > 0 && st.RaftAppliedIndex <= st.RaftIndex,
			"term_positive":        st.RaftTerm > 0,
			"header_term_equal":    st.Header.RaftTerm == st.RaftTerm,
			"learner":              st.IsLearner,
			"errors":               st.Errors,
			"header_cluster_set":   st.Header.ClusterId != 0,
			"header_revision_rel0": s.rel(st.Header.Revision) == 0,
		})
	}
	if a, err := c.AlarmList(ctx); err != nil {
		s.add("alarm list", errName(err))
	} else {
		s.add("alarm list", map[string]interface{}{"alarms": len(a.Alarms)})
	}
	if a, err := c.AlarmDisarm(ctx, &clientv3.AlarmMember{}); err != nil {
		s.add("alarm disarm none", errName(err))
	} else {
		s.add("alarm disarm none", map[string]interface{}{"alarms": len(a.Alarms)})
	}
	if _, err := c.Defragment(ctx, s.endpoint); err != nil {
		s.add("defragment", errName(err))
	} else {
		s.add("defragment", "ok")
	}
	if st != nil {
		_, err := c.MoveLeader(ctx, st.Leader)
		s.add("move leader to itself", errName(err))
	}
	_, err = c.MoveLeader(ctx, 0x7eadbeef)
	s.add("move leader to unknown member", errName(err))
	if rc, err := c.Snapshot(ctx); err != nil {
		s.add("snapshot", errName(err))
	} else {
		n, err := io.Copy(ioutil.Discard, rc)
		rc.Close()
		s.add("snapshot", map[string]interface{}{"bytes_positive": n > 0, "err": errName(err)})
	}
	// The snapshot package's Save (what etcdctl snapshot save runs): it
	// checks etcd's sha256 trailer by the stream's size.
	if dir, err := ioutil.TempDir("", "aspen-goclient-snap"); err != nil {
		s.add("snapshot.Save", "tempdir: "+err.Error())
	} else {
		path := filepath.Join(dir, "backup.db")
		err := snapshot.NewV3(zap.NewNop()).Save(ctx, clientv3.Config{Endpoints: []string{s.endpoint},
			DialTimeout: 5 * time.Second}, path)
		fi, statErr := os.Stat(path)
		s.add("snapshot.Save", map[string]interface{}{"err": errName(err),
			"file": statErr == nil && fi.Size() > 0})
		os.RemoveAll(dir)
	}
	if h, err := c.HashKV(ctx, s.endpoint, 0); err != nil {
		s.add("hashkv", errName(err))
	} else {
		s.add("hashkv", map[string]interface{}{"rev": s.rel(h.Header.Revision)})
	}
	if h, err := c.HashKV(ctx, s.endpoint, s.abs(1000)); err != nil {
		s.add("hashkv future rev", errName(err))
	} else {
		s.add("hashkv future rev", map[string]interface{}{"rev": s.rel(h.Header.Revision)})
	}
}

func cluster(ctx context.Context, s *rec) {
	c := s.cli
	r, err := c.MemberList(ctx)
	if err != nil {
		s.add("member list", errName(err))
		return
	}
	members := []interface{}{}
	selfListed := false
	for _, m := range r.Members {
		selfListed = selfListed || m.ID == r.Header.MemberId
		members = append(members, map[string]interface{}{"id_set": m.ID != 0, "named": m.Name != "",
			"peer_urls": len(m.PeerURLs), "client_urls": len(m.ClientURLs), "learner": m.IsLearner})
	}
	s.add("member list", map[string]interface{}{"members": members, "header_member_listed": selfListed,
		"header_revision": r.Header.Revision, "header_cluster_set": r.Header.ClusterId != 0})
	// Sync replaces the client's endpoints with the members' client URLs.
	if c3, err := newClient([]string{s.endpoint}); err != nil {
		s.add("sync", "connect: "+errName(err))
	} else {
		err := c3.Sync(ctx)
		eps := len(c3.Endpoints())
		_, getErr := c3.Get(ctx, "cluster/none")
		s.add("sync", map[string]interface{}{"err": errName(err), "endpoints": eps,
			"get after sync": errName(getErr)})
		c3.Close()
	}
	// Every call below is a raft configuration change in etcd (validated when
	// applied). etcd 3.4's raft drops a conf change proposed while the
	// previous one is not yet marked applied, and the call then ends in
	// ErrTimeout; under load that happens to consecutive calls. So the calls
	// are spaced, each attempt has its own deadline, and an attempt that timed
	// out is retried (at most 3 attempts; the same for both servers).
	reconf := func(call func(context.Context) error) error {
		var err error
		for attempt := 0; attempt < 3; attempt++ {
			time.Sleep(200 * time.Millisecond)
			actx, cancel := context.WithTimeout(ctx, 9*time.Second)
			err = call(actx)
			timedOut := actx.Err() != nil
			cancel()
			if ctx.Err() != nil || (err != rpctypes.ErrTimeout && !timedOut) {
				break
			}
			fmt.Fprintf(os.Stderr, "aspen-goclient-compat: cluster: retrying a conf change after %v\n", err)
		}
		return err
	}
	// Unknown member ids.
	if err := reconf(func(ctx context.Context) error {
		_, err := c.MemberUpdate(ctx, 0x7eadbeef, []string{"http://127.0.0.1:1"})
		return err
	}); err != nil {
		s.add("member update unknown", errName(err))
	} else {
		s.add("member update unknown", "ok")
	}
	if err := reconf(func(ctx context.Context) error {
		_, err := c.MemberRemove(ctx, 0x7eadbeef)
		return err
	}); err != nil {
		s.add("member remove unknown", errName(err))
	} else {
		s.add("member remove unknown", "ok")
	}
	if len(r.Members) == 1 {
		peer := r.Members[0].PeerURLs
		err := reconf(func(ctx context.Context) error {
			_, err := c.MemberAddAsLearner(ctx, peer)
			return err
		})
		s.add("member add existing peer url", errName(err))
	}
	// A learner that never starts: promote is refused, remove works.
	var add *clientv3.MemberAddResponse
	err = reconf(func(ctx context.Context) (err error) {
		add, err = c.MemberAddAsLearner(ctx, []string{"http://127.0.0.1:9"})
		return err
	})
	if err != nil {
		s.add("member add learner", errName(err))
		return
	}
	newMember := map[string]interface{}{}
	listed := 0
	for _, m := range add.Members {
		if m.ID == add.Member.ID {
			listed++
			newMember = map[string]interface{}{"learner": m.IsLearner, "named": m.Name != "",
				"client_urls": len(m.ClientURLs), "peer_urls": m.PeerURLs}
		}
	}
	s.add("member add learner", map[string]interface{}{"members": len(add.Members), "listed": listed,
		"new": newMember, "learner": add.Member.IsLearner})
	err = reconf(func(ctx context.Context) error {
		_, err := c.MemberPromote(ctx, add.Member.ID)
		return err
	})
	s.add("member promote unstarted learner", errName(err))
	var rm *clientv3.MemberRemoveResponse
	err = reconf(func(ctx context.Context) (err error) {
		rm, err = c.MemberRemove(ctx, add.Member.ID)
		return err
	})
	if err != nil {
		s.add("member remove learner", errName(err))
	} else {
		s.add("member remove learner", map[string]interface{}{"members": len(rm.Members)})
	}
}

func errorCases(ctx context.Context, s *rec) {
	c := s.cli
	puts := func(n int) []clientv3.Op {
		ops := []clientv3.Op{}
		for i := 0; i < n; i++ {
			ops = append(ops, clientv3.OpPut(fmt.Sprintf("err/%03d", i), "v"))
		}
		return ops
	}
	s.add("txn 128 ops", s.txn(c.Txn(ctx).Then(puts(128)...).Commit()))
	s.add("txn 129 ops", s.txn(c.Txn(ctx).Then(puts(129)...).Commit()))
	s.add("txn 129 compares", s.txn(c.Txn(ctx).If(func() []clientv3.Cmp {
		cmps := []clientv3.Cmp{}
		for i := 0; i < 129; i++ {
			cmps = append(cmps, clientv3.Compare(clientv3.Version("err/000"), ">", 0))
		}
		return cmps
	}()...).Commit()))
	s.add("txn 65 then + 65 else", s.txn(c.Txn(ctx).Then(puts(65)...).Else(puts(65)...).Commit()))
	s.add("delete 128 keys", s.del(c.Delete(ctx, "err/", clientv3.WithPrefix())))
	s.add("put 1.6 MB", s.put(c.Put(ctx, "err/big", strings.Repeat("x", 1600*1000))))
	s.add("txn 2 x 0.8 MB", s.txn(c.Txn(ctx).Then(clientv3.OpPut("err/b1", strings.Repeat("x", 800*1000)),
		clientv3.OpPut("err/b2", strings.Repeat("x", 800*1000))).Commit()))
	s.add("get future rev", s.get(c.Get(ctx, "err/a", clientv3.WithRev(s.abs(1000)))))
	s.add("txn get future rev", s.txn(c.Txn(ctx).Then(clientv3.OpGet("err/a", clientv3.WithRev(s.abs(1000)))).Commit()))
	s.add("txn duplicate put", s.txn(c.Txn(ctx).Then(clientv3.OpPut("err/a", "1"), clientv3.OpPut("err/a", "2")).Commit()))
	s.add("txn put and delete", s.txn(c.Txn(ctx).Then(clientv3.OpPut("err/a", "1"), clientv3.OpDelete("err/a")).Commit()))
	s.add("txn delete range over put", s.txn(c.Txn(ctx).Then(clientv3.OpDelete("err/", clientv3.WithPrefix()), clientv3.OpPut("err/b", "1")).Commit()))
	s.add("txn put in nested txn twice", s.txn(c.Txn(ctx).Then(clientv3.OpPut("err/a", "1"),
		clientv3.OpTxn(nil, []clientv3.Op{clientv3.OpPut("err/a", "2")}, nil)).Commit()))
	s.add("txn two deletes same key", s.txn(c.Txn(ctx).Then(clientv3.OpDelete("err/a"), clientv3.OpDelete("err/a")).Commit()))
	s.add("txn get and put same key", s.txn(c.Txn(ctx).Then(clientv3.OpGet("err/a"), clientv3.OpPut("err/a", "3")).Commit()))
	s.add("txn put empty key", s.txn(c.Txn(ctx).Then(clientv3.OpPut("", "v")).Commit()))
	s.add("txn compare empty key", s.txn(c.Txn(ctx).If(clientv3.Compare(clientv3.Version(""), "=", 0)).Commit()))
	// Which error wins when a request has several faults.
	s.add("txn duplicate + future rev get", s.txn(c.Txn(ctx).Then(clientv3.OpPut("err/d", "1"), clientv3.OpPut("err/d", "2"),
		clientv3.OpGet("err/d", clientv3.WithRev(s.abs(1000)))).Commit()))
	s.add("txn future rev get + duplicate", s.txn(c.Txn(ctx).Then(clientv3.OpGet("err/d", clientv3.WithRev(s.abs(1000))),
		clientv3.OpPut("err/d", "1"), clientv3.OpPut("err/d", "2")).Commit()))
	s.add("txn empty key + duplicate", s.txn(c.Txn(ctx).Then(clientv3.OpPut("", "1"),
		clientv3.OpPut("err/d", "1"), clientv3.OpPut("err/d", "2")).Commit()))
	s.add("txn duplicate + unknown lease", s.txn(c.Txn(ctx).Then(clientv3.OpPut("err/d", "1", clientv3.WithLease(0x7eadbeef)),
		clientv3.OpPut("err/d", "2")).Commit()))
	s.add("txn unknown lease in untaken branch", s.txn(c.Txn(ctx).If(clientv3.Compare(clientv3.Version("err/none"), ">", 0)).
		Then(clientv3.OpPut("err/d", "1", clientv3.WithLease(0x7eadbeef))).Else(clientv3.OpGet("err/d")).Commit()))
	s.add("txn future rev get in untaken branch", s.txn(c.Txn(ctx).If(clientv3.Compare(clientv3.Version("err/none"), ">", 0)).
		Then(clientv3.OpGet("err/d", clientv3.WithRev(s.abs(1000)))).Else(clientv3.OpGet("err/d")).Commit()))
	s.add("txn ignore value missing key in untaken branch", s.txn(c.Txn(ctx).If(clientv3.Compare(clientv3.Version("err/none"), ">", 0)).
		Then(clientv3.OpPut("err/none", "", clientv3.WithIgnoreValue())).Else(clientv3.OpGet("err/d")).Commit()))
	s.add("get err/ prefix", s.get(c.Get(ctx, "err/", clientv3.WithPrefix())))
}

// historyBulk: 2,510 revisions' worth of events, read by a watch from the
// first (catch-up in batches) and by the mirror package (paged Gets at one
// revision, then a watch).
func historyBulk(ctx context.Context, s *rec) {
	c := s.cli
	const txns, perTxn = 25, 100
	for t := 0; t < txns; t++ {
		ops := []clientv3.Op{}
		for i := 0; i < perTxn; i++ {
			ops = append(ops, clientv3.OpPut(fmt.Sprintf("bulk/%04d", t*perTxn+i), fmt.Sprint(t)))
		}
		if _, err := c.Txn(ctx).Then(ops...).Commit(); err != nil {
			s.add(fmt.Sprintf("txn %d", t), errName(err))
			return
		}
	}
	for i := 0; i < 10; i++ {
		if _, err := c.Put(ctx, fmt.Sprintf("bulk/%04d", i*7), "updated"); err != nil {
			s.add(fmt.Sprintf("update %d", i), errName(err))
			return
		}
	}
	s.add("delete every 100th", s.del(c.Delete(ctx, "bulk/00", clientv3.WithPrefix())))
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	r := s.watchN(wctx, c.Watch(wctx, "bulk/", clientv3.WithPrefix(), clientv3.WithRev(s.abs(1)), clientv3.WithPrevKV()),
		txns*perTxn+10+100, 200*time.Millisecond).(map[string]interface{})
	events := r["events"].([]interface{})
	digest, _ := jsonLine(events)
	sum := sha256.Sum256([]byte(digest))
	summary := map[string]interface{}{"count": len(events), "sha256": fmt.Sprintf("%x", sum[:8]),
		"errs": r["errs"], "closed": r["closed"]}
	if len(events) > 0 {
		summary["first"] = events[0]
		summary["last"] = events[len(events)-1]
	}
	s.add("watch from base+1", summary)

	sy := mirror.NewSyncer(c, "bulk/", 0)
	rch, ech := sy.SyncBase(ctx)
	pages, keys, first, last := 0, 0, "", ""
	for resp := range rch {
		pages++
		for _, kv := range resp.Kvs {
			if first == "" {
				first = string(kv.Key)
			}
			last = string(kv.Key)
			keys++
		}
	}
	var syncErr error
	select {
	case syncErr = <-ech:
	default:
	}
	s.add("mirror sync base", map[string]interface{}{"pages": pages, "keys": keys, "first": first, "last": last,
		"err": errName(syncErr)})
	uch := sy.SyncUpdates(wctx)
	s.add("put bulk/new", s.put(c.Put(ctx, "bulk/new", "n")))
	s.add("mirror updates", s.watchN(wctx, uch, 1, 100*time.Millisecond))
	s.add("delete bulk", s.del(c.Delete(ctx, "bulk/", clientv3.WithPrefix())))
}

// bigEvents: a revision of about 1.5 MB, watched with and without fragments.
func bigEvents(ctx context.Context, s *rec) {
	c := s.cli
	big := strings.Repeat("b", 500*1000)
	s.add("txn 3 x 500 KB", s.txn(c.Txn(ctx).Then(clientv3.OpPut("big/1", big), clientv3.OpPut("big/2", big),
		clientv3.OpPut("big/3", big)).Commit()))
	s.add("put big/4 small", s.put(c.Put(ctx, "big/4", "small")))
	sizes := func(r interface{}) interface{} {
		m := r.(map[string]interface{})
		out := []string{}
		for _, e := range m["events"].([]interface{}) {
			kv := e.(map[string]interface{})["kv"].(map[string]interface{})
			out = append(out, fmt.Sprintf("%s %d@%d", kv["k"], len(kv["v"].(string)), kv["mod"]))
		}
		return map[string]interface{}{"events": out, "errs": m["errs"], "closed": m["closed"]}
	}
	for _, frag := range []bool{false, true} {
		wctx, cancel := context.WithCancel(ctx)
		opts := []clientv3.OpOption{clientv3.WithPrefix(), clientv3.WithRev(s.abs(1))}
		if frag {
			opts = append(opts, clientv3.WithFragment())
		}
		s.add(fmt.Sprintf("watch fragment=%v", frag), sizes(s.watchN(wctx, c.Watch(wctx, "big/", opts...), 4, 100*time.Millisecond)))
		cancel()
	}
	r, err := c.Get(ctx, "big/", clientv3.WithPrefix(), clientv3.WithKeysOnly())
	s.add("get keys", s.get(r, err))
	s.add("delete", s.del(c.Delete(ctx, "big/", clientv3.WithPrefix())))
}

// leasingKV: the leasing package caches keys under leases it holds and
// revokes them through txns and watches when another client writes.
func leasingKV(ctx context.Context, s *rec) {
	l1, close1, err := leasing.NewKV(s.cli, "leasing-pfx/", concurrency.WithTTL(10))
	if err != nil {
		s.add("leasing kv 1", errName(err))
		return
	}
	defer close1()
	l2, close2, err := leasing.NewKV(s.cli2, "leasing-pfx/", concurrency.WithTTL(10))
	if err != nil {
		s.add("leasing kv 2", errName(err))
		return
	}
	defer close2()
	val := func(name string, kv clientv3.KV, key string) {
		r, err := kv.Get(ctx, key)
		if err != nil {
			s.add(name, errName(err))
		} else if len(r.Kvs) == 0 {
			s.add(name, "<none>")
		} else {
			s.add(name, string(r.Kvs[0].Value))
		}
	}
	_, err = l1.Put(ctx, "lk/a", "1")
	s.add("l1 put", errName(err))
	val("l1 get", l1, "lk/a")
	val("l1 get (cached)", l1, "lk/a")
	_, err = l2.Put(ctx, "lk/a", "2")
	s.add("l2 put", errName(err))
	val("l1 get after l2 put", l1, "lk/a")
	val("l2 get", l2, "lk/a")
	tr, err := l1.Txn(ctx).If(clientv3.Compare(clientv3.Value("lk/a"), "=", "2")).
		Then(clientv3.OpPut("lk/a", "3")).Else(clientv3.OpGet("lk/a")).Commit()
	if err != nil {
		s.add("l1 txn", errName(err))
	} else {
		s.add("l1 txn", tr.Succeeded)
	}
	val("l2 get after l1 txn", l2, "lk/a")
	_, err = l2.Delete(ctx, "lk/a")
	s.add("l2 delete", errName(err))
	val("l1 get after delete", l1, "lk/a")
	val("plain get", s.cli, "lk/a")
}

var scenarios = []scenario{
	{"kv_get_options", 10 * time.Second, kvGetOptions},
	{"kv_put_delete", 10 * time.Second, kvPutDelete},
	{"txn_compares", 10 * time.Second, txnCompares},
	{"compaction", 10 * time.Second, compaction},
	{"watch_history", 15 * time.Second, watchHistory},
	{"watch_live", 15 * time.Second, watchLive},
	{"lease", 25 * time.Second, leaseOps},
	{"lease_revoke_elsewhere", 15 * time.Second, leaseRevokeElsewhere},
	{"mutex", 15 * time.Second, mutex},
	{"election", 15 * time.Second, election},
	{"stm", 15 * time.Second, stm},
	{"maintenance", 10 * time.Second, maintenance},
	{"cluster", 60 * time.Second, cluster}, // see reconf: etcd's conf changes may need retries
	{"errors", 10 * time.Second, errorCases},
	{"history_bulk", 20 * time.Second, historyBulk},
	{"big_events", 10 * time.Second, bigEvents},
	{"leasing_kv", 15 * time.Second, leasingKV},
}

func newClient(endpoints []string) (*clientv3.Client, error) {
	logCfg := zap.NewProductionConfig()
	logCfg.Level = zap.NewAtomicLevelAt(zap.ErrorLevel)
	logCfg.OutputPaths = []string{"stderr"}
	return clientv3.New(clientv3.Config{Endpoints: endpoints, DialTimeout: 5 * time.Second, LogConfig: &logCfg})
}

func main() {
	endpointsFlag := flag.String("endpoints", "", "comma-separated gRPC endpoints (host:port)")
	only := flag.String("scenarios", "", "comma-separated scenario names (default: all)")
	list := flag.Bool("list", false, "print the scenario names and exit")
	flag.Parse()
	if *list {
		for _, sc := range scenarios {
			fmt.Println(sc.name)
		}
		return
	}
	if *endpointsFlag == "" {
		fmt.Fprintln(os.Stderr, "aspen-goclient-compat: -endpoints is required")
		os.Exit(2)
	}
	grpclog.SetLoggerV2(grpclog.NewLoggerV2(ioutil.Discard, ioutil.Discard, os.Stderr))
	endpoints := strings.Split(*endpointsFlag, ",")
	wanted := map[string]bool{}
	for _, n := range strings.Split(*only, ",") {
		if n != "" {
			wanted[n] = true
		}
	}
	for n := range wanted {
		found := false
		for _, sc := range scenarios {
			found = found || sc.name == n
		}
		if !found {
			fmt.Fprintf(os.Stderr, "aspen-goclient-compat: unknown scenario %q\n", n)
			os.Exit(2)
		}
	}
	cli, err := newClient(endpoints)
	if err != nil {
		fmt.Fprintln(os.Stderr, "aspen-goclient-compat: connect:", err)
		os.Exit(1)
	}
	// The second client dials the endpoints in reverse order, so on a cluster
	// the two contenders of a lock or election start on different members.
	rev := append([]string(nil), endpoints...)
	for i, j := 0, len(rev)-1; i < j; i, j = i+1, j-1 {
		rev[i], rev[j] = rev[j], rev[i]
	}
	cli2, err := newClient(rev)
	if err != nil {
		fmt.Fprintln(os.Stderr, "aspen-goclient-compat: connect:", err)
		os.Exit(1)
	}
	failed := false
	for _, sc := range scenarios {
		if len(wanted) > 0 && !wanted[sc.name] {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), sc.timeout)
		s := &rec{cli: cli, cli2: cli2, endpoint: endpoints[0]}
		line := map[string]interface{}{"scenario": sc.name}
		if r, err := cli.Get(ctx, "\x00"); err != nil {
			line["start_error"] = errName(err)
		} else {
			s.base = r.Header.Revision
		}
		done := make(chan struct{})
		start := time.Now()
		go func() {
			defer close(done)
			sc.run(ctx, s)
		}()
		select {
		case <-done:
		case <-time.After(sc.timeout + 5*time.Second):
			line["hung"] = fmt.Sprintf("no return within %v", sc.timeout+5*time.Second)
			failed = true
		}
		cancel()
		line["steps"] = s.snapshot()
		out, err := jsonLine(line)
		if err != nil {
			fmt.Fprintln(os.Stderr, "aspen-goclient-compat: json:", err)
			os.Exit(1)
		}
		fmt.Println(out)
		fmt.Fprintf(os.Stderr, "aspen-goclient-compat: %s took %v\n", sc.name, time.Since(start).Round(time.Millisecond))
	}
	if failed {
		os.Exit(3)
	}
	cli.Close()
	cli2.Close()
}

// jsonLine encodes v on one line (map keys sorted, no HTML escaping).
func jsonLine(v interface{}) (string, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return "", err
	}
	return strings.TrimRight(b.String(), "\n"), nil
}

"""RQ (python-rq) against tracered: enqueue a job (a MULTI/EXEC pipeline), then run it with
a SimpleWorker in burst mode, which subscribes to its control channel (Pub/Sub), moves the
job between registries with WATCH/MULTI/EXEC pipelines and stores the result.

RQ 2+/3 keeps job results in a stream (XADD / XREVRANGE), served by t_stream.py.
"""

from __future__ import annotations

import os
import sys
import tempfile
import textwrap

import pytest
import redis

rq = pytest.importorskip("rq")

JOBS = textwrap.dedent("""
    def add(a, b):
        return a + b

    def boom():
        raise ValueError("expected failure")
""")


@pytest.fixture(scope="module")
def jobs_module():
    d = tempfile.mkdtemp(prefix="rq-jobs-")
    with open(os.path.join(d, "tracered_rq_jobs.py"), "w") as f:
        f.write(JOBS)
    sys.path.insert(0, d)
    import tracered_rq_jobs

    yield tracered_rq_jobs
    sys.path.remove(d)
    sys.modules.pop("tracered_rq_jobs", None)


def test_enqueue_stores_job_and_queue(r, jobs_module):
    from rq import Queue
    from rq.job import Job

    q = Queue("default", connection=r)
    job = q.enqueue(jobs_module.add, 2, 3, job_id="job-add")
    assert job.id == "job-add"
    assert q.count == 1
    assert q.job_ids == ["job-add"]
    assert r.lrange("rq:queue:default", 0, -1) == [b"job-add"]
    assert b"rq:queue:default" in r.smembers("rq:queues")
    fetched = Job.fetch("job-add", connection=r)
    assert fetched.func_name == "tracered_rq_jobs.add"
    assert fetched.args == (2, 3)
    assert fetched.get_status() == "queued"


@pytest.mark.parametrize("target", ["tracered", "redis"])
def test_simple_worker_burst_runs_jobs(request, jobs_module, target):
    """The same run on redis-server shows the test itself is right."""
    r = request.getfixturevalue("r" if target == "tracered" else "rr")
    try:
        r.xlen("rq:probe-for-streams")
    except redis.ResponseError:
        pytest.skip("tracered has no XADD yet (t_stream.py): RQ stores job results with "
                    "XADD and reads them with XREVRANGE")
    from rq import Queue, SimpleWorker
    from rq.job import JobStatus

    q = Queue("default", connection=r)
    ok = q.enqueue(jobs_module.add, 2, 3)
    bad = q.enqueue(jobs_module.boom)
    w = SimpleWorker([q], connection=r)
    assert w.work(burst=True) is True
    ok.refresh()
    bad.refresh()
    assert ok.get_status() == JobStatus.FINISHED
    assert ok.return_value() == 5
    assert bad.get_status() == JobStatus.FAILED
    assert "expected failure" in (bad.latest_result().exc_string or "")
    assert q.count == 0
    # The worker left pubsub cleanly: nobody listens on its control channel any more.
    assert r.pubsub_numsub(w.pubsub_channel_name) == [(w.pubsub_channel_name.encode(), 0)]

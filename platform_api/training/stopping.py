"""Set when this worker process is asked to shut down (workers/recovery.py): a running
job stops at its next step and is handed back to the queue at once."""
import threading

worker_stopping = threading.Event()

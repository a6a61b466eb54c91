"""Hard-bar rules (硬杠): one small pure function per catalogued rule (issue 4). Empty so far."""

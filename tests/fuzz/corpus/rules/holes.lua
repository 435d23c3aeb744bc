return { default = "accept", rules = { [1] = { name = "one", verdict = "drop" }, [3] = { name = "three", verdict = "drop" } } }

print("smollama")

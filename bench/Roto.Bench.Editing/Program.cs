Console.WriteLine("Roto.Bench.Editing: not written yet");
